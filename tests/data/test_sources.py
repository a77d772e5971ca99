"""Reading dataset entries: save_to_disk folders, hub ids offline, and source-level invalid rows (bad JSON lines,
non-UTF-8 lines, rows that are not objects) raised or skipped and counted."""

from __future__ import annotations

import datasets
import pytest

from hellbender.config import DatasetConfig
from hellbender.data.sources import InvalidRows, load_source, local_files
from hellbender.errors import DataError
from tests.conftest import arithmetic_chats, write_jsonl


def test_save_to_disk_folders_are_read_and_a_split_is_picked(tmp_path) -> None:
    rows = arithmetic_chats(3)
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "one"))
    loaded = load_source(DatasetConfig(path=str(tmp_path / "one"), type="chat_template"))
    assert loaded.to_list() == rows
    datasets.DatasetDict(
        {"train": datasets.Dataset.from_list(rows[:2]), "test": datasets.Dataset.from_list(rows[2:])}
    ).save_to_disk(str(tmp_path / "dict"))
    test = load_source(DatasetConfig(path=str(tmp_path / "dict"), type="chat_template", split="test"))
    assert test.to_list() == rows[2:]
    assert local_files(DatasetConfig(path=str(tmp_path / "dict"))), "saved folders are fingerprinted by their files"
    with pytest.raises(DataError, match=r"has no split `dev` \(it has: train, test\)"):
        load_source(DatasetConfig(path=str(tmp_path / "dict"), type="chat_template", split="dev"))


def test_hub_id_offline_names_the_dataset_and_how_to_fix(monkeypatch) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(DataError, match="some-org/some-data") as caught:
        load_source(DatasetConfig(path="some-org/some-data", name="subset", revision="abc123"))
    assert "name `subset`" in caught.value.message
    assert "--local-dir" in caught.value.hint and "HF_DATASETS_OFFLINE" in caught.value.hint


def test_hub_arguments_are_passed_through(monkeypatch) -> None:
    seen = {}

    def fake_load(path, **kwargs):
        seen.update(kwargs, path=path)
        return datasets.Dataset.from_list([{"text": "x"}])

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    ds = DatasetConfig(path="org/data", name="en", split="train[:10]", revision="v1", data_files=["a.parquet"])
    assert len(load_source(ds)) == 1
    assert seen == {
        "path": "org/data",
        "name": "en",
        "split": "train[:10]",
        "revision": "v1",
        "data_files": ["a.parquet"],
    }


def _bad_file(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", arithmetic_chats(4))
    lines = path.read_bytes().split(b"\n")
    lines[1] = b'{"messages": "caf\xe9"}'  # latin-1, not UTF-8
    lines[2] = b'{"messages": [oops'
    lines.insert(3, b"[1, 2]")
    path.write_bytes(b"\n".join(lines))
    return path


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b'{"messages": "caf\xe9"}', r"d.jsonl, line 2: not valid UTF-8"),
        (b'{"messages": [oops', r"d.jsonl, line 2: malformed JSON"),
        (b"[1, 2]", r"d.jsonl, line 2: expected a JSON object per line, got list"),
    ],
)
def test_bad_lines_raise_with_file_and_line(tmp_path, bad, message) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", arithmetic_chats(1))
    path.write_bytes(path.read_bytes() + bad + b"\n")
    with pytest.raises(DataError, match=message):
        load_source(DatasetConfig(path=str(path), type="chat_template"))


def test_bad_lines_are_skipped_and_counted_with_drop(tmp_path) -> None:
    path = _bad_file(tmp_path)
    invalid = InvalidRows(drop=True)
    rows = load_source(DatasetConfig(path=str(path), type="chat_template"), invalid)
    assert rows.to_list() == [arithmetic_chats(4)[0], arithmetic_chats(4)[3]]
    assert invalid.count == 3
    assert [r.split(":")[0] for r in invalid.reasons] == [f"{path}, line {n}" for n in (2, 3, 4)]


def test_json_array_with_a_non_object_element(tmp_path) -> None:
    path = tmp_path / "d.json"
    path.write_text('[{"instruction": "a", "output": "b"}, "stray"]')
    with pytest.raises(DataError, match=r"d.json, row 2: expected a JSON object"):
        load_source(DatasetConfig(path=str(path)))
    invalid = InvalidRows(drop=True)
    assert len(load_source(DatasetConfig(path=str(path)), invalid)) == 1 and invalid.count == 1


def test_rows_whose_fields_disagree_in_type_still_load(tmp_path) -> None:
    """Arrow needs one type per column; such rows reach the format, which names the bad row."""
    path = write_jsonl(tmp_path / "d.jsonl", [*arithmetic_chats(2), {"messages": "not a list"}])
    rows = load_source(DatasetConfig(path=str(path), type="chat_template"))
    assert len(rows) == 3


def test_fields_missing_from_the_first_row_are_kept(tmp_path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"instruction": "a", "output": "b"}, {"instruction": "c", "input": "d"}])
    rows = load_source(DatasetConfig(path=str(path))).to_list()
    assert rows == [
        {"instruction": "a", "output": "b", "input": None},
        {"instruction": "c", "output": None, "input": "d"},
    ]
