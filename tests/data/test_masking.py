"""Label masks with the real SmolLM2 tokenizer, against spans written down by hand."""

from __future__ import annotations

import pytest

from hellbender.config import DatasetConfig
from hellbender.data.formats import get_format
from hellbender.data.formats.base import FormatContext
from hellbender.data.tokenize import IGNORE_INDEX, tokenize_batch
from tests.snapshot import expected_tokens as _expected

SYSTEM = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"


def _context(tokenizer, train_on_inputs: bool = False) -> FormatContext:
    return FormatContext(
        tokenizer=tokenizer,
        dataset=DatasetConfig(path="test.jsonl", type="chat_template"),
        train_on_inputs=train_on_inputs,
        chat_template=tokenizer.chat_template,
    )


def _encode(fmt: str, row: dict, tokenizer, train_on_inputs: bool = False):
    segments = get_format(fmt)(row, 0, _context(tokenizer, train_on_inputs))
    return tokenize_batch([segments], tokenizer)[0]


def test_alpaca_trains_only_the_response_and_eos(smollm2_tokenizer) -> None:
    row = {"instruction": "Name a colour.", "input": "", "output": "Blue"}
    got = _encode("alpaca", row, smollm2_tokenizer)
    prompt = (
        "Below is an instruction that describes a task. Write a response that appropriately completes the "
        "request.\n\n### Instruction:\nName a colour.\n\n### Response:\n"
    )
    ids, labels = _expected(smollm2_tokenizer, [(prompt, False), ("Blue", True), ("<|im_end|>", True)])
    assert got.input_ids == ids
    assert got.labels == labels
    trained = [t for t, label in zip(got.input_ids, got.labels) if label != IGNORE_INDEX]
    assert smollm2_tokenizer.decode(trained) == "Blue<|im_end|>"
    assert got.input_ids.count(smollm2_tokenizer.eos_token_id) == 1  # eos exactly once, and trained


def test_alpaca_with_input_and_train_on_inputs(smollm2_tokenizer) -> None:
    row = {"instruction": "Add.", "input": "2 and 3", "output": "5"}
    got = _encode("alpaca", row, smollm2_tokenizer, train_on_inputs=True)
    prompt = (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n### Instruction:\nAdd.\n\n"
        "### Input:\n2 and 3\n\n### Response:\n"
    )
    ids, labels = _expected(smollm2_tokenizer, [(prompt + "5<|im_end|>", True)])
    assert got.input_ids == ids and got.labels == labels


def test_multi_turn_chat_trains_assistant_turns_and_their_end_of_turn(smollm2_tokenizer) -> None:
    row = {
        "messages": [
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "4"},
            {"role": "user", "content": "And 3+3?"},
            {"role": "assistant", "content": "It is 6."},
        ]
    }
    got = _encode("chat_template", row, smollm2_tokenizer)
    ids, labels = _expected(
        smollm2_tokenizer,
        [
            (SYSTEM + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", False),
            ("4<|im_end|>", True),
            ("\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n", False),
            ("It is 6.<|im_end|>", True),
            ("\n", False),
        ],
    )
    assert got.input_ids == ids
    assert got.labels == labels
    assert got.boundary_tokens == 0


def test_chat_with_system_message_masks_it(smollm2_tokenizer) -> None:
    row = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
        ]
    }
    got = _encode("chat_template", row, smollm2_tokenizer)
    ids, labels = _expected(
        smollm2_tokenizer,
        [
            ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", False),
            ("Hello!<|im_end|>", True),
            ("\n", False),
        ],
    )
    assert got.input_ids == ids and got.labels == labels


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"text": "x"}, "missing field `messages`"),
        ({"messages": "hello"}, "must be a list of messages"),
        ({"messages": []}, "empty conversation"),
        ({"messages": [{"role": "narrator", "content": "x"}]}, "unknown role `narrator`"),
    ],
)
def test_bad_chat_rows_name_the_row(smollm2_tokenizer, row: dict, message: str) -> None:
    from hellbender.errors import DataError

    with pytest.raises(DataError) as error:
        get_format("chat_template")(row, 6, _context(smollm2_tokenizer))
    assert "test.jsonl, row 7" in str(error.value) and message in str(error.value)


def test_alpaca_missing_output_names_field(smollm2_tokenizer) -> None:
    from hellbender.errors import DataError

    with pytest.raises(DataError, match=r"row 1: missing field `output`"):
        get_format("alpaca")({"instruction": "x"}, 0, _context(smollm2_tokenizer))
