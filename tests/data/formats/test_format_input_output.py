"""`input_output` (template-free) with the real SmolLM2 tokenizer: text joined verbatim, labels per segment."""

from __future__ import annotations

import pytest

from hellbender.config import DatasetConfig
from hellbender.data.formats import get_format
from hellbender.data.formats.base import FormatContext
from hellbender.data.tokenize import IGNORE_INDEX, tokenize_batch
from hellbender.errors import DataError
from tests.snapshot import expected_tokens as _expected


def _context(tokenizer, train_on_inputs: bool = False, bos_text: str = "") -> FormatContext:
    dataset = DatasetConfig(path="test.jsonl", type="input_output")
    return FormatContext(tokenizer=tokenizer, dataset=dataset, train_on_inputs=train_on_inputs, bos_text=bos_text)


def _encode(row: dict, ctx: FormatContext):
    return tokenize_batch([get_format("input_output")(row, 0, ctx)], ctx.tokenizer)[0]


ROW = {
    "segments": [
        {"text": "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", "label": False},
        {"text": "Hello!<|im_end|>", "label": True},
        {"text": "\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n", "label": False},
        {"text": "See you.<|im_end|>", "label": True},
    ]
}


def test_labels_follow_the_segments_and_nothing_is_added(smollm2_tokenizer) -> None:
    got = _encode(ROW, _context(smollm2_tokenizer, bos_text="<|im_start|>"))  # bos is not added either
    pieces = [(s["text"], s["label"]) for s in ROW["segments"]]
    ids, labels = _expected(smollm2_tokenizer, pieces)
    assert got.input_ids == ids
    assert got.labels == labels
    assert smollm2_tokenizer.decode(got.input_ids) == "".join(text for text, _ in pieces)
    trained = [t for t, label in zip(got.input_ids, got.labels) if label != IGNORE_INDEX]
    assert smollm2_tokenizer.decode(trained) == "Hello!<|im_end|>See you.<|im_end|>"


def test_no_eos_unless_written(smollm2_tokenizer) -> None:
    got = _encode(
        {"segments": [{"text": "Q: 1+1? A:", "label": False}, {"text": " 2", "label": True}]},
        _context(smollm2_tokenizer),
    )
    ids, labels = _expected(smollm2_tokenizer, [("Q: 1+1? A:", False), (" 2", True)])
    assert got.input_ids == ids and got.labels == labels
    assert smollm2_tokenizer.eos_token_id not in got.input_ids


def test_train_on_inputs_trains_every_segment(smollm2_tokenizer) -> None:
    got = _encode(ROW, _context(smollm2_tokenizer, train_on_inputs=True))
    assert got.labels == got.input_ids


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"text": "x"}, "missing field `segments` (fields present: text)"),
        ({"segments": []}, "`segments` must be a non-empty list, got an empty list"),
        ({"segments": "hello"}, "`segments` must be a non-empty list, got str"),
        ({"segments": ["hello"]}, "`segments[0]` must be an object, got str"),
        (
            {"segments": [{"text": "a", "label": True}, {"label": True}]},
            "`segments[1]`: `text` must be text, got nothing",
        ),
        ({"segments": [{"text": 3, "label": True}]}, "`segments[0]`: `text` must be text, got int"),
        ({"segments": [{"text": "a"}]}, "`segments[0]`: `label` must be true or false, got nothing"),
        ({"segments": [{"text": "a", "label": "true"}]}, "`segments[0]`: `label` must be true or false, got 'true'"),
        ({"segments": [{"text": "a", "label": 1}]}, "`segments[0]`: `label` must be true or false, got 1"),
    ],
)
def test_bad_rows_name_the_row(smollm2_tokenizer, row, message) -> None:
    with pytest.raises(DataError) as error:
        get_format("input_output")(row, 9, _context(smollm2_tokenizer))
    assert "test.jsonl, row 10:" in str(error.value) and message in str(error.value)
