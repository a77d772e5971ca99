"""`completion` with the real SmolLM2 tokenizer: raw text, every token trained, eos once."""

from __future__ import annotations

import pytest

from hellbender.config import DatasetConfig
from hellbender.data.formats import get_format
from hellbender.data.formats.base import FormatContext
from hellbender.data.sources import load_source
from hellbender.data.tokenize import IGNORE_INDEX, tokenize_batch
from hellbender.errors import DataError


def _context(tokenizer, path: str = "test.jsonl", train_on_inputs: bool = False, bos_text: str = "", **keys):
    dataset = DatasetConfig(path=path, type="completion", **keys)
    return FormatContext(tokenizer=tokenizer, dataset=dataset, train_on_inputs=train_on_inputs, bos_text=bos_text)


def _encode(row: dict, ctx: FormatContext, index: int = 0):
    return tokenize_batch([get_format("completion")(row, index, ctx)], ctx.tokenizer)[0]


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_everything_is_trained_and_eos_appended_once(smollm2_tokenizer) -> None:
    text = "The sky is blue.\nGrass is green."
    got = _encode({"text": text}, _context(smollm2_tokenizer))
    ids = _ids(smollm2_tokenizer, text) + [smollm2_tokenizer.eos_token_id]
    assert got.input_ids == ids
    assert got.labels == ids
    assert smollm2_tokenizer.decode(got.labels) == "The sky is blue.\nGrass is green.<|im_end|>"
    assert got.input_ids.count(smollm2_tokenizer.eos_token_id) == 1


def test_train_on_inputs_changes_nothing(smollm2_tokenizer) -> None:
    row = {"text": "Hello world"}
    assert _encode(row, _context(smollm2_tokenizer, train_on_inputs=True)) == _encode(row, _context(smollm2_tokenizer))


def test_field_names_the_column(smollm2_tokenizer) -> None:
    got = _encode({"body": "Once upon a time", "text": "ignored"}, _context(smollm2_tokenizer, field="body"))
    assert smollm2_tokenizer.decode(got.labels) == "Once upon a time<|im_end|>"


def test_bos_written_once_when_the_tokenizer_adds_one(smollm2_tokenizer) -> None:
    got = _encode({"text": "Hi"}, _context(smollm2_tokenizer, bos_text="<|im_start|>"))
    assert got.input_ids == [1] + _ids(smollm2_tokenizer, "Hi") + [2]
    assert got.input_ids.count(1) == 1


def test_rows_of_a_txt_file(smollm2_tokenizer, tmp_path) -> None:
    path = tmp_path / "corpus.txt"
    path.write_text("First line.\nSecond line.\n", encoding="utf-8")
    ctx = _context(smollm2_tokenizer, path=str(path))
    rows = list(load_source(ctx.dataset))
    got = tokenize_batch([get_format("completion")(row, i, ctx) for i, row in enumerate(rows)], smollm2_tokenizer)
    assert [smollm2_tokenizer.decode(r.labels) for r in got] == ["First line.<|im_end|>", "Second line.<|im_end|>"]
    assert all(IGNORE_INDEX not in r.labels for r in got)


def test_blank_line_of_a_txt_file_names_the_row(smollm2_tokenizer, tmp_path) -> None:
    path = tmp_path / "corpus.txt"
    path.write_text("First.\n\nThird.\n", encoding="utf-8")
    ctx = _context(smollm2_tokenizer, path=str(path))
    rows = list(load_source(ctx.dataset))
    with pytest.raises(DataError, match=r"corpus.txt, row 2: field `text` is empty") as error:
        [get_format("completion")(row, i, ctx) for i, row in enumerate(rows)]
    assert "invalid_rows: drop" in str(error.value)


@pytest.mark.parametrize(
    ("row", "keys", "message"),
    [
        ({"content": "x"}, {}, "missing field `text` (fields present: content)"),
        ({"text": "x"}, {"field": "body"}, "missing field `body` (fields present: text)"),
        ({"text": ""}, {}, "field `text` is empty"),
        ({"text": " \n "}, {}, "field `text` is empty"),
        ({"text": ["a", "b"]}, {}, "field `text` must be text, got list"),
    ],
)
def test_bad_rows_name_the_row(smollm2_tokenizer, row, keys, message) -> None:
    with pytest.raises(DataError) as error:
        get_format("completion")(row, 2, _context(smollm2_tokenizer, **keys))
    assert "test.jsonl, row 3:" in str(error.value) and message in str(error.value)
