"""User-defined formats (`type:` as a mapping) with the real SmolLM2 tokenizer, against prompts written by hand."""

from __future__ import annotations

import pytest

from hellbender.config import DatasetConfig, load_config
from hellbender.data.formats import get_format
from hellbender.data.formats.base import FormatContext
from hellbender.data.tokenize import tokenize_batch
from hellbender.errors import ConfigError, DataError
from tests.conftest import write_config
from tests.snapshot import expected_tokens as _expected
from tests.snapshot import trained_text as _trained_text

SPEC = {
    "field_instruction": "question",
    "field_input": "context",
    "field_output": "answer",
    "field_system": "persona",
    "format": "### Q:\n{instruction}\n### Context:\n{input}\n### A:\n",
    "no_input_format": "### Q:\n{instruction}\n### A:\n",
    "system_format": "[{system}]\n",
    "system_prompt": "Answer briefly.",
}


def _context(tokenizer, spec: dict | str, train_on_inputs: bool = False, bos_text: str = "") -> FormatContext:
    dataset = DatasetConfig(path="test.jsonl", type=spec)
    return FormatContext(tokenizer=tokenizer, dataset=dataset, train_on_inputs=train_on_inputs, bos_text=bos_text)


def _encode(row: dict, ctx: FormatContext):
    return tokenize_batch([get_format(ctx.dataset.format_name)(row, 0, ctx)], ctx.tokenizer)[0]


@pytest.mark.parametrize(
    ("row", "prompt"),
    [
        (
            {"question": "Capital?", "context": "France", "answer": "Paris", "persona": "Be a guide."},
            "[Be a guide.]\n### Q:\nCapital?\n### Context:\nFrance\n### A:\n",
        ),
        ({"question": "Capital?", "context": "", "answer": "Paris"}, "[Answer briefly.]\n### Q:\nCapital?\n### A:\n"),
        ({"question": "Capital?", "answer": "Paris", "persona": " "}, "[Answer briefly.]\n### Q:\nCapital?\n### A:\n"),
    ],
)
def test_prompt_untrained_response_and_eos_trained(smollm2_tokenizer, row: dict, prompt: str) -> None:
    ctx = _context(smollm2_tokenizer, SPEC)
    assert ctx.dataset.format_name == "user_defined"
    got = _encode(row, ctx)
    ids, labels = _expected(smollm2_tokenizer, [(prompt, False), ("Paris<|im_end|>", True)])
    assert got.input_ids == ids
    assert got.labels == labels
    assert _trained_text(smollm2_tokenizer, got) == "Paris<|im_end|>"


def test_train_on_inputs_and_bos(smollm2_tokenizer) -> None:
    ctx = _context(smollm2_tokenizer, SPEC, train_on_inputs=True, bos_text="<|im_start|>")
    got = _encode({"question": "Capital?", "answer": "Paris"}, ctx)
    text = "<|im_start|>[Answer briefly.]\n### Q:\nCapital?\n### A:\nParis<|im_end|>"
    ids, labels = _expected(smollm2_tokenizer, [(text, True)])
    assert got.input_ids == ids and got.labels == labels
    assert got.input_ids.count(1) == 1


def test_no_system_at_all_writes_no_system_line(smollm2_tokenizer) -> None:
    spec = {"format": "Q: {instruction} ({system})\nA:", "system_format": "SYS {system}\n"}
    got = _encode({"instruction": "Hi?", "output": "Yo"}, _context(smollm2_tokenizer, spec))
    ids, labels = _expected(smollm2_tokenizer, [("Q: Hi? ()\nA:", False), ("Yo<|im_end|>", True)])
    assert got.input_ids == ids and got.labels == labels


def test_system_placeholder_in_format(smollm2_tokenizer) -> None:
    spec = {"format": "<{system}> {instruction}\n", "system_format": "", "system_prompt": "S"}
    got = _encode({"instruction": "Hi?", "output": "Yo"}, _context(smollm2_tokenizer, spec))
    ids, _ = _expected(smollm2_tokenizer, [("<S> Hi?\n", False), ("Yo<|im_end|>", True)])
    assert got.input_ids == ids


def test_default_format_merges_the_trailing_space_into_the_answer(smollm2_tokenizer) -> None:
    """Axolotl's default `{instruction} {input} ` ends in a space; tokenized once, " Paris" is one token, which
    straddles the boundary and is trained (and counted as a boundary token)."""
    got = _encode({"instruction": "Capital of France?", "output": "Paris"}, _context(smollm2_tokenizer, {}))
    ids, labels = _expected(smollm2_tokenizer, [("Capital of France? ", False), (" Paris<|im_end|>", True)])
    assert got.input_ids == ids and got.labels == labels
    assert got.boundary_tokens == 1
    assert _trained_text(smollm2_tokenizer, got) == " Paris<|im_end|>"


def test_literal_braces_are_allowed(smollm2_tokenizer) -> None:
    spec = {"format": '{{"q": "{instruction}"}} -> ', "system_format": "{system}"}
    got = _encode({"instruction": "x", "output": "y"}, _context(smollm2_tokenizer, spec))
    assert smollm2_tokenizer.decode(got.input_ids) == '{"q": "x"} -> y<|im_end|>'


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"format": "Q: {question}\nA: "},
            "`type.format` uses the placeholder {question}, which is not one of {instruction}, {input}, {system}",
        ),
        ({"no_input_format": "{instruction} {output}"}, "`type.no_input_format` uses the placeholder {output}"),
        (
            {"system_format": "<{instruction}>"},
            "`type.system_format` uses the placeholder {instruction}, which is not one of {system}",
        ),
        ({"format": "Q: {}"}, "uses the placeholder {}"),
        ({"format": "Q: {instruction"}, "`type.format` is not a valid template"),
    ],
)
def test_bad_template_is_reported_by_name_when_the_config_loads(tmp_path, spec: dict, message: str) -> None:
    path = write_config(tmp_path / "c.yml", base_model="m/m", datasets=[{"path": "d.jsonl", "type": spec}])
    with pytest.raises(ConfigError) as error:
        load_config(path)
    (problem,) = error.value.problems
    assert problem.startswith("`datasets[0].type`:") and message in problem


def test_user_defined_as_a_plain_name_asks_for_a_mapping(tmp_path) -> None:
    path = write_config(tmp_path / "c.yml", base_model="m/m", datasets=[{"path": "d.jsonl", "type": "user_defined"}])
    with pytest.raises(ConfigError, match="a user-defined format is written as a mapping"):
        load_config(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"answer": "x", "context": "c"}, "missing field `question` (fields present: answer, context)"),
        ({"question": "x"}, "missing field `answer` (fields present: question)"),
        ({"question": "x", "answer": 3}, "field `answer` must be text, got int"),
        ({"question": "x", "answer": "y", "persona": ["a"]}, "field `persona` must be text, got list"),
    ],
)
def test_bad_rows_name_the_row_and_field(smollm2_tokenizer, row: dict, message: str) -> None:
    with pytest.raises(DataError) as error:
        get_format("user_defined")(row, 1, _context(smollm2_tokenizer, SPEC))
    assert "test.jsonl, row 2:" in str(error.value) and message in str(error.value)
