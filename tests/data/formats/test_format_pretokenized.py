"""`pretokenized`: token ids pass through the tokenize stage as given, after checks against the real vocabulary."""

from __future__ import annotations

import pytest

from hellbender.config import DatasetConfig
from hellbender.data.formats import get_format
from hellbender.data.formats.base import FormatContext, Pretokenized
from hellbender.data.tokenize import IGNORE_INDEX, tokenize_batch
from hellbender.errors import DataError


def _context(tokenizer, train_on_inputs: bool = False) -> FormatContext:
    dataset = DatasetConfig(path="test.jsonl", type="pretokenized")
    return FormatContext(tokenizer=tokenizer, dataset=dataset, train_on_inputs=train_on_inputs)


def _encode(row: dict, ctx: FormatContext):
    return tokenize_batch([get_format("pretokenized")(row, 0, ctx)], ctx.tokenizer)[0]


def test_ids_and_labels_pass_through(smollm2_tokenizer) -> None:
    prompt = smollm2_tokenizer("Q: 2+2?\nA:", add_special_tokens=False)["input_ids"]
    answer = smollm2_tokenizer(" 4<|im_end|>", add_special_tokens=False)["input_ids"]
    row = {"input_ids": prompt + answer, "labels": [IGNORE_INDEX] * len(prompt) + answer}
    got = _encode(row, _context(smollm2_tokenizer))
    assert got.input_ids == prompt + answer
    assert got.labels == [IGNORE_INDEX] * len(prompt) + answer
    trained = [t for t in got.labels if t != IGNORE_INDEX]
    assert smollm2_tokenizer.decode(trained) == " 4<|im_end|>"
    assert smollm2_tokenizer.decode(got.input_ids) == "Q: 2+2?\nA: 4<|im_end|>"


@pytest.mark.parametrize("train_on_inputs", [False, True])
def test_without_labels_everything_is_trained(smollm2_tokenizer, train_on_inputs: bool) -> None:
    ids = smollm2_tokenizer("Plain text.<|im_end|>", add_special_tokens=False)["input_ids"]
    got = _encode({"input_ids": ids}, _context(smollm2_tokenizer, train_on_inputs))
    assert got.input_ids == ids and got.labels == ids


def test_given_labels_are_kept_even_with_train_on_inputs(smollm2_tokenizer) -> None:
    row = {"input_ids": [10, 11, 12], "labels": [IGNORE_INDEX, 11, 12]}
    assert _encode(row, _context(smollm2_tokenizer, train_on_inputs=True)).labels == [IGNORE_INDEX, 11, 12]


def test_attention_mask_zeros_are_dropped(smollm2_tokenizer) -> None:
    row = {"input_ids": [10, 11, 12, 2, 2], "labels": [-100, 11, 12, -100, -100], "attention_mask": [1, 1, 1, 0, 0]}
    got = get_format("pretokenized")(row, 0, _context(smollm2_tokenizer))
    assert got == Pretokenized(input_ids=[10, 11, 12], labels=[-100, 11, 12])


def test_label_other_than_the_input_id_is_accepted(smollm2_tokenizer) -> None:
    row = {"input_ids": [10, 11], "labels": [10, 49151]}
    assert _encode(row, _context(smollm2_tokenizer)).labels == [10, 49151]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"text": "x"}, "missing field `input_ids` (fields present: text)"),
        ({"input_ids": "1 2 3"}, "field `input_ids` must be a list of integers, got str"),
        ({"input_ids": []}, "field `input_ids` is empty"),
        ({"input_ids": [1, "2"]}, "input_ids[1] is '2', not an integer"),
        ({"input_ids": [1, 2.0]}, "input_ids[1] is 2.0, not an integer"),
        ({"input_ids": [True]}, "input_ids[0] is True, not an integer"),
        ({"input_ids": [1, [2]]}, "input_ids[1] is [2], not an integer"),
        ({"input_ids": [5, -1]}, "input_ids[1] is -1, outside this tokenizer's vocabulary (0..49151)"),
        ({"input_ids": [5, 49152]}, "input_ids[1] is 49152, outside this tokenizer's vocabulary (0..49151)"),
        ({"input_ids": [5, -100]}, "input_ids[1] is -100, outside"),
        ({"input_ids": [5, 2**70]}, "field `input_ids` holds an integer too large"),
        ({"input_ids": [5, 6], "labels": [5]}, "field `labels` has 1 value(s) but `input_ids` has 2"),
        (
            {"input_ids": [5, 6], "labels": [5, -5]},
            "labels[1] is -5, outside this tokenizer's vocabulary (0..49151 or -100)",
        ),
        ({"input_ids": [5, 6], "labels": [5, 60000]}, "labels[1] is 60000, outside"),
        ({"input_ids": [5, 6], "labels": ["a", 6]}, "labels[0] is 'a', not an integer"),
        ({"input_ids": [5, 6], "attention_mask": [1]}, "field `attention_mask` has 1 value(s) but `input_ids` has 2"),
        ({"input_ids": [5, 6], "attention_mask": [1, 2]}, "attention_mask[1] is 2, not 0 or 1"),
    ],
)
def test_bad_rows_name_the_row_and_field(smollm2_tokenizer, row, message) -> None:
    with pytest.raises(DataError) as error:
        get_format("pretokenized")(row, 0, _context(smollm2_tokenizer))
    assert "test.jsonl, row 1:" in str(error.value) and message in str(error.value)
