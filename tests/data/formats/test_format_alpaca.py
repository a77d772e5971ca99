"""`alpaca` and its Axolotl variants with the real SmolLM2 tokenizer, against prompts written out by hand."""

from __future__ import annotations

import pytest

from hellbender.config import DatasetConfig
from hellbender.data.formats import get_format
from hellbender.data.formats.alpaca import alpaca_prompt
from hellbender.data.formats.base import FormatContext
from hellbender.data.tokenize import IGNORE_INDEX, tokenize_batch
from hellbender.errors import DataError
from tests.snapshot import expected_tokens as _expected
from tests.snapshot import trained_text as _trained_text

NO_INPUT = "Below is an instruction that describes a task. Write a response that appropriately completes the request."
WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request."
)


def _context(tokenizer, train_on_inputs: bool = False, bos_text: str = "", **keys) -> FormatContext:
    dataset = DatasetConfig(path="test.jsonl", type=keys.pop("type", "alpaca"), **keys)
    return FormatContext(tokenizer=tokenizer, dataset=dataset, train_on_inputs=train_on_inputs, bos_text=bos_text)


def _encode(name: str, row: dict, ctx: FormatContext):
    return tokenize_batch([get_format(name)(row, 0, ctx)], ctx.tokenizer)[0]


ROW = {"instruction": "Name a colour.", "output": "Blue"}
ROW_INPUT = {"instruction": "Add.", "input": "2 and 3", "output": "5"}
ORCA = {"system_prompt": "Be brief.", "question": "Name a colour.", "response": "Blue"}

CASES = [
    ("alpaca", ROW, f"{NO_INPUT}\n\n### Instruction:\nName a colour.\n\n### Response:\n", "Blue"),
    (
        "alpaca",
        {**ROW, "system": "Be brief."},
        f"### System:\nBe brief.\n\n{NO_INPUT}\n\n### Instruction:\nName a colour.\n\n### Response:\n",
        "Blue",
    ),
    ("alpaca_chat", ROW, f"SYSTEM: {NO_INPUT}\nUSER: Name a colour.\nASSISTANT:", "Blue"),
    ("alpaca_chat", ROW_INPUT, f"SYSTEM: {WITH_INPUT}\nUSER: Add.\n2 and 3\nASSISTANT:", "5"),
    ("alpaca_chat", {**ROW, "system": "Be brief."}, "SYSTEM: Be brief.\nUSER: Name a colour.\nASSISTANT:", "Blue"),
    (
        "alpaca_chat.load_qa",
        {"question": "Capital of France?", "answer": "Paris"},
        f"SYSTEM: {NO_INPUT}\nUSER: Capital of France?\nASSISTANT:",
        "Paris",
    ),
    ("alpaca_w_system", {**ROW, "system": "Be brief."}, "SYSTEM: Be brief.\nUSER: Name a colour.\nASSISTANT:", "Blue"),
    ("alpaca_w_system", ROW, "USER: Name a colour.\nASSISTANT:", "Blue"),
    ("alpaca_w_system", {**ROW_INPUT, "system": "Math."}, "SYSTEM: Math.\nUSER: Add.\n2 and 3\nASSISTANT:", "5"),
    (
        "alpaca_w_system.load_instruct",
        {**ROW, "system": "Be brief."},
        "Be brief.\n\n### Instruction:\nName a colour.\n\n### Response:\n",
        "Blue",
    ),
    (
        "alpaca_w_system.load_open_orca",
        ORCA,
        "### System:\nBe brief.\n### Human:\nName a colour.\n### Assistant:\n",
        "Blue",
    ),
    (
        "alpaca_w_system.load_open_orca_chatml",
        ORCA,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nName a colour.<|im_end|>\n<|im_start|>assistant\n",
        "Blue",
    ),
]


@pytest.mark.parametrize(("name", "row", "prompt", "response"), CASES)
def test_variant_trains_only_the_response_and_eos(smollm2_tokenizer, name, row, prompt, response) -> None:
    got = _encode(name, row, _context(smollm2_tokenizer, type=name))
    ids, labels = _expected(smollm2_tokenizer, [(prompt, False), (response, True), ("<|im_end|>", True)])
    assert got.input_ids == ids
    assert got.labels == labels
    assert _trained_text(smollm2_tokenizer, got) == response + "<|im_end|>"
    assert got.input_ids[-1] == smollm2_tokenizer.eos_token_id and got.labels[-1] == smollm2_tokenizer.eos_token_id
    assert got.boundary_tokens == 0


@pytest.mark.parametrize(("name", "row", "prompt", "response"), CASES)
def test_variant_with_train_on_inputs_trains_everything(smollm2_tokenizer, name, row, prompt, response) -> None:
    got = _encode(name, row, _context(smollm2_tokenizer, train_on_inputs=True, type=name))
    ids, labels = _expected(smollm2_tokenizer, [(prompt + response + "<|im_end|>", True)])
    assert got.input_ids == ids and got.labels == labels


def test_alpaca_field_renames(smollm2_tokenizer) -> None:
    ctx = _context(
        smollm2_tokenizer,
        field_instruction="question",
        field_input="context",
        field_output="answer",
        field_system="persona",
    )
    row = {"question": "Add.", "context": "2 and 3", "answer": "5", "persona": "Math.", "instruction": "ignored"}
    got = _encode("alpaca", row, ctx)
    prompt = f"### System:\nMath.\n\n{WITH_INPUT}\n\n### Instruction:\nAdd.\n\n### Input:\n2 and 3\n\n### Response:\n"
    ids, labels = _expected(smollm2_tokenizer, [(prompt, False), ("5<|im_end|>", True)])
    assert got.input_ids == ids and got.labels == labels
    assert _trained_text(smollm2_tokenizer, got) == "5<|im_end|>"


def test_variant_field_renames(smollm2_tokenizer) -> None:
    ctx = _context(smollm2_tokenizer, type="alpaca_w_system", field_instruction="q", field_output="a", field_system="s")
    got = _encode("alpaca_w_system", {"q": "Hi?", "a": "Hello", "s": "Be kind."}, ctx)
    ids, labels = _expected(
        smollm2_tokenizer, [("SYSTEM: Be kind.\nUSER: Hi?\nASSISTANT:", False), ("Hello<|im_end|>", True)]
    )
    assert got.input_ids == ids and got.labels == labels


def test_bos_is_written_once_when_the_tokenizer_adds_one(smollm2_tokenizer) -> None:
    ctx = _context(smollm2_tokenizer, bos_text="<|im_start|>", type="alpaca_chat")
    got = _encode("alpaca_chat", ROW, ctx)
    assert got.input_ids[0] == smollm2_tokenizer.convert_tokens_to_ids("<|im_start|>")
    assert got.input_ids.count(got.input_ids[0]) == 1
    assert got.labels[0] == IGNORE_INDEX


def test_whitespace_only_input_counts_as_no_input(smollm2_tokenizer) -> None:
    got = _encode("alpaca_chat", {**ROW, "input": "  "}, _context(smollm2_tokenizer, type="alpaca_chat"))
    ids, _ = _expected(
        smollm2_tokenizer, [(f"SYSTEM: {NO_INPUT}\nUSER: Name a colour.\nASSISTANT:Blue<|im_end|>", True)]
    )
    assert got.input_ids == ids


def test_alpaca_prompt_for_inference_is_unchanged() -> None:
    assert alpaca_prompt("Hi") == f"{NO_INPUT}\n\n### Instruction:\nHi\n\n### Response:\n"
    assert alpaca_prompt("Hi", "x", "S") == (
        f"### System:\nS\n\n{WITH_INPUT}\n\n### Instruction:\nHi\n\n### Input:\nx\n\n### Response:\n"
    )


@pytest.mark.parametrize(
    ("name", "keys", "row", "message"),
    [
        ("alpaca", {}, {"instruction": "x"}, "missing field `output` (fields present: instruction)"),
        ("alpaca", {}, {"output": "x"}, "missing field `instruction` (fields present: output)"),
        ("alpaca", {"field_instruction": "q"}, {"instruction": "x", "output": "y"}, "missing field `q`"),
        ("alpaca", {}, {"instruction": "x", "output": 5}, "field `output` must be text, got int"),
        ("alpaca", {}, {"instruction": "x", "input": ["a"], "output": "y"}, "field `input` must be text, got list"),
        ("alpaca_w_system", {}, {"instruction": "x", "output": "y", "system": 1}, "field `system` must be text"),
        ("alpaca_chat.load_qa", {}, {"question": "x"}, "missing field `answer`"),
        ("alpaca_w_system.load_open_orca", {}, {"question": "x", "output": "y"}, "missing field `response`"),
    ],
)
def test_bad_rows_name_the_row_and_field(smollm2_tokenizer, name, keys, row, message) -> None:
    with pytest.raises(DataError) as error:
        get_format(name)(row, 4, _context(smollm2_tokenizer, type=name, **keys))
    assert "test.jsonl, row 5:" in str(error.value)
    assert message in str(error.value)
