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
