"""The data stages wired together: counts of removed rows, the validation split, the cache, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from hellbender.config import load_config
from hellbender.data.collate import PadCollator
from hellbender.data.pipeline import prepare_data
from hellbender.data.tokenize import IGNORE_INDEX
from hellbender.errors import DataError
from tests.conftest import arithmetic_chats, write_config, write_jsonl


def _config(tmp_path: Path, model_dir: Path, data: Path, **keys):
    keys = {"dataset_prepared_path": str(tmp_path / "prepared"), **keys}
    path = write_config(
        tmp_path / "cfg.yml", base_model=str(model_dir), datasets=[{"path": str(data), "type": "chat_template"}], **keys
    )
    return load_config(path)


def test_long_rows_are_dropped_or_truncated_and_counted(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    rows = arithmetic_chats(6) + [
        {"messages": [{"role": "user", "content": "word " * 200}, {"role": "assistant", "content": "ok"}]}
    ]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    dropped = prepare_data(_config(tmp_path, smollm2_dir, data, sequence_len=64), smollm2_tokenizer)
    report = dropped.reports[0]
    assert (report.rows_in, report.dropped_too_long, report.rows_out) == (7, 1, 6)
    truncated = prepare_data(
        _config(tmp_path, smollm2_dir, data, sequence_len=64, excess_length_strategy="truncate"), smollm2_tokenizer
    )
    report = truncated.reports[0]
    # The long row's answer lies past token 64: truncation leaves nothing trained, so it is dropped and counted.
    assert (report.truncated, report.dropped_nothing_trained, report.rows_out) == (1, 1, 6)
    assert max(len(ids) for ids in truncated.train["input_ids"]) <= 64


def test_validation_split_is_deterministic(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", arithmetic_chats(20))
    first = prepare_data(_config(tmp_path, smollm2_dir, data, val_set_size=0.25), smollm2_tokenizer)
    assert (len(first.train), len(first.val)) == (15, 5)
    other = _config(tmp_path, smollm2_dir, data, val_set_size=0.25, dataset_prepared_path=str(tmp_path / "p2"))
    again = prepare_data(other, smollm2_tokenizer)
    assert again.val["input_ids"] == first.val["input_ids"]


def test_cache_is_reused_and_rebuilt_when_a_row_changes(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", arithmetic_chats(5))
    config = _config(tmp_path, smollm2_dir, data)
    first = prepare_data(config, smollm2_tokenizer)
    assert not first.reused
    second = prepare_data(config, smollm2_tokenizer)
    assert second.reused and second.fingerprint == first.fingerprint
    rows = arithmetic_chats(5)
    rows[2]["messages"][1]["content"] = "changed"
    write_jsonl(data, rows)
    third = prepare_data(config, smollm2_tokenizer)
    assert not third.reused and third.fingerprint != first.fingerprint


def test_malformed_jsonl_line_is_named(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", arithmetic_chats(3))
    data.write_text(data.read_text() + '{"messages": [oops\n')
    with pytest.raises(DataError, match=r"d.jsonl, line 4: malformed JSON"):
        prepare_data(_config(tmp_path, smollm2_dir, data), smollm2_tokenizer)


def test_collator_pads_without_masking_trained_eos() -> None:
    """SmolLM2's pad id equals its eos id: padding must not turn the trained eos label into -100."""
    rows = [{"input_ids": [5, 6, 2], "labels": [IGNORE_INDEX, 6, 2]}, {"input_ids": [7], "labels": [7]}]
    batch = PadCollator(pad_token_id=2)(rows)
    assert batch["labels"].tolist() == [[IGNORE_INDEX, 6, 2], [7, IGNORE_INDEX, IGNORE_INDEX]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["input_ids"].tolist() == [[5, 6, 2], [7, 2, 2]]


def test_text_that_looks_like_dates_or_numbers_stays_text(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    """pyarrow's JSON reader and pandas' CSV reader would turn these into a timestamp and the integer 7."""
    from hellbender.config import DatasetConfig
    from hellbender.data.sources import load_source

    jsonl = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "ISO?", "output": "2021-03-05"}])
    assert load_source(DatasetConfig(path=str(jsonl), type="alpaca"))[0]["output"] == "2021-03-05"
    csv = tmp_path / "a.csv"
    csv.write_text("instruction,input,output\nPad it,,007\n")
    row = load_source(DatasetConfig(path=str(csv), type="alpaca"))[0]
    assert row == {"instruction": "Pad it", "input": "", "output": "007"}
    config = _config(tmp_path, smollm2_dir, jsonl)
    config.datasets[0].type = "alpaca"
    prepared = prepare_data(config, smollm2_tokenizer)
    trained = [t for t, label in zip(prepared.train[0]["input_ids"], prepared.train[0]["labels"]) if label != -100]
    assert smollm2_tokenizer.decode(trained) == "2021-03-05<|im_end|>"


def _mixed_config(tmp_path: Path, model_dir: Path, entries: list[dict], **keys):
    keys = {"dataset_prepared_path": str(tmp_path / "prepared"), **keys}
    return load_config(write_config(tmp_path / "cfg.yml", base_model=str(model_dir), datasets=entries, **keys))


def _alpaca(tmp_path: Path, name: str, count: int, start: int = 0) -> str:
    rows = [{"instruction": f"Say {i}", "output": f"{i}"} for i in range(start, start + count)]
    return str(write_jsonl(tmp_path / name, rows))


def test_sampling_ratio_subsamples_and_repeats_and_counts(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    entries = [
        {"path": _alpaca(tmp_path, "a.jsonl", 10), "sampling_ratio": 0.5},
        {"path": _alpaca(tmp_path, "b.jsonl", 4, start=100), "sampling_ratio": 2.5},
        {"path": _alpaca(tmp_path, "c.jsonl", 3, start=200)},
    ]
    prepared = prepare_data(_mixed_config(tmp_path, smollm2_dir, entries), smollm2_tokenizer)
    a, b, c = prepared.reports
    assert (a.rows_out, a.sampled, a.train_rows) == (10, -5, 5)
    assert (b.rows_out, b.sampled, b.train_rows) == (4, 6, 10)  # every row twice, plus 2 distinct rows
    assert (c.sampled, c.train_rows) == (0, 3)
    assert len(prepared.train) == 18
    texts = [smollm2_tokenizer.decode(ids) for ids in prepared.train["input_ids"]]
    b_counts = sorted(sum(f"Say {i}\n" in t for t in texts) for i in range(100, 104))
    assert b_counts == [2, 2, 3, 3]
    a_counts = [sum(f"Say {i}\n" in t for t in texts) for i in range(10)]
    assert sum(a_counts) == 5 and max(a_counts) == 1  # a seeded subsample: distinct rows


def test_test_datasets_become_the_validation_set(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    entries = [{"path": _alpaca(tmp_path, "a.jsonl", 6)}]
    tests = [{"path": _alpaca(tmp_path, "t.jsonl", 3, start=50)}]
    prepared = prepare_data(_mixed_config(tmp_path, smollm2_dir, entries, test_datasets=tests), smollm2_tokenizer)
    assert (len(prepared.train), len(prepared.val)) == (6, 3)
    assert [r.kind for r in prepared.reports] == ["train", "test"]
    assert (prepared.reports[1].train_rows, prepared.reports[1].eval_rows) == (0, 3)
    assert all("Say 5" in smollm2_tokenizer.decode(ids) for ids in prepared.val["input_ids"])


def test_rows_with_a_split_field_are_routed(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    rows = arithmetic_chats(8)
    for i, row in enumerate(rows):
        row["split"] = {0: "test", 1: "validation"}.get(i, "train")
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    prepared = prepare_data(_config(tmp_path, smollm2_dir, data), smollm2_tokenizer)
    assert (len(prepared.train), len(prepared.val)) == (6, 2)
    val_text = [smollm2_tokenizer.decode(ids) for ids in prepared.val["input_ids"]]
    assert any("0 plus 0" in t for t in val_text) and any("1 plus 1" in t for t in val_text)
    assert "split" not in prepared.train.column_names
    # val_set_size takes its share from the training rows; marked rows stay in evaluation
    both = prepare_data(_config(tmp_path, smollm2_dir, data, val_set_size=2), smollm2_tokenizer)
    assert (len(both.train), len(both.val)) == (4, 4)
    assert (both.reports[0].train_rows, both.reports[0].eval_rows) == (4, 4)


def test_unknown_split_value_is_named(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    rows = arithmetic_chats(3)
    rows[1]["split"] = "dev"
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    with pytest.raises(DataError, match=r"d.jsonl, row 2: field `split` is 'dev'; expected train, test or validation"):
        prepare_data(_config(tmp_path, smollm2_dir, data), smollm2_tokenizer)


def test_exact_duplicates_are_dropped_across_datasets(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    first = _alpaca(tmp_path, "a.jsonl", 4)  # rows 0..3
    rows = [{"instruction": f"Say {i}", "output": f"{i}"} for i in (0, 0, 2, 9)]
    second = str(write_jsonl(tmp_path / "b.jsonl", rows))
    keys = {"dataset_exact_deduplication": True}
    prepared = prepare_data(
        _mixed_config(tmp_path, smollm2_dir, [{"path": first}, {"path": second}], **keys), smollm2_tokenizer
    )
    a, b = prepared.reports
    assert (a.dropped_duplicate, a.rows_out) == (0, 4)
    assert (b.dropped_duplicate, b.rows_out) == (3, 1)
    assert len(prepared.train) == 5
    plain = prepare_data(_mixed_config(tmp_path, smollm2_dir, [{"path": first}, {"path": second}]), smollm2_tokenizer)
    assert len(plain.train) == 8 and plain.fingerprint != prepared.fingerprint


BAD_ROWS = {
    "missing field": ({"conversation": []}, r"row 2: missing field `messages`"),
    "wrong role": (
        {"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]},
        r"row 2: message 0 has unknown role `robot`",
    ),
    "empty conversation": ({"messages": []}, r"row 2: `messages` is an empty conversation"),
    "messages not a list": ({"messages": "hello"}, r"row 2: `messages` must be a list"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_invalid_rows_error_or_drop(tmp_path, smollm2_dir, smollm2_tokenizer, case) -> None:
    bad, message = BAD_ROWS[case]
    rows = arithmetic_chats(3)
    data = write_jsonl(tmp_path / "d.jsonl", [rows[0], bad, *rows[1:]])
    with pytest.raises(DataError, match=rf"d.jsonl, {message}"):
        prepare_data(_config(tmp_path, smollm2_dir, data), smollm2_tokenizer)
    prepared = prepare_data(_config(tmp_path, smollm2_dir, data, invalid_rows="drop"), smollm2_tokenizer)
    report = prepared.reports[0]
    assert (report.rows_in, report.dropped_invalid, report.rows_out) == (4, 1, 3)
    assert len(report.invalid_reasons) == 1 and "row 2" in report.invalid_reasons[0]


def test_non_utf8_line_is_skipped_alone_with_drop(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", arithmetic_chats(3))
    data.write_bytes(data.read_bytes() + b'{"messages": "caf\xe9"}\n')
    with pytest.raises(DataError, match=r"d.jsonl, line 4: not valid UTF-8"):
        prepare_data(_config(tmp_path, smollm2_dir, data), smollm2_tokenizer)
    report = prepare_data(_config(tmp_path, smollm2_dir, data, invalid_rows="drop"), smollm2_tokenizer).reports[0]
    assert (report.rows_in, report.dropped_invalid, report.rows_out) == (4, 1, 3)
    assert "line 4" in report.invalid_reasons[0]


def test_save_to_disk_folder_as_a_dataset(tmp_path, smollm2_dir, smollm2_tokenizer) -> None:
    import datasets

    folder = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(arithmetic_chats(4))}).save_to_disk(str(folder))
    prepared = prepare_data(_config(tmp_path, smollm2_dir, folder), smollm2_tokenizer)
    assert prepared.reports[0].rows_out == 4 and len(prepared.train) == 4
