"""`type:` given as a mapping — a prompt template written in the config (Axolotl's user-defined format).

The prompt is `system_format` filled with the system text (the row's `field_system` column, else `system_prompt`;
nothing when both are empty), then `format` — or `no_input_format` when the row's input is empty — filled with
`{instruction}`, `{input}` and `{system}`. The response (`field_output`) and eos after it are trained; the prompt
only with `train_on_inputs`. The templates are checked before any row is filled, so a typo in a placeholder is
reported by name instead of surfacing as a KeyError from `str.format`.
"""

from __future__ import annotations

import string
from functools import lru_cache
from typing import Any

from hellbender.config.schema import UserFormat
from hellbender.data.formats import register
from hellbender.data.formats.base import FormatContext, Segment, require_text
from hellbender.errors import DataError

PROMPT_KEYS = ("instruction", "input", "system")
SYSTEM_KEYS = ("system",)


def user_prompt(spec: UserFormat, instruction: str, input_text: str = "", system: str = "") -> str:
    """The prompt text (everything before the response); also used to build inference prompts."""
    if not system.strip():
        system = spec.system_prompt
    values = {"instruction": instruction, "input": input_text, "system": system}
    template = spec.format if input_text.strip() or spec.no_input_format is None else spec.no_input_format
    head = spec.system_format.format(system=system) if system.strip() else ""
    return head + template.format(**values)


@register("user_defined")
def user_defined(row: dict[str, Any], index: int, ctx: FormatContext) -> list[Segment]:
    spec = _spec(ctx)
    instruction = require_text(row, spec.field_instruction, index, ctx)
    input_text = require_text(row, spec.field_input, index, ctx, optional=True)
    output = require_text(row, spec.field_output, index, ctx)
    system = require_text(row, spec.field_system, index, ctx, optional=True)
    prompt = user_prompt(spec, instruction, input_text, system)
    eos = ctx.tokenizer.eos_token or ""
    return [Segment(ctx.bos_text + prompt, ctx.train_on_inputs), Segment(output + eos, True)]


def _spec(ctx: FormatContext) -> UserFormat:
    spec = ctx.dataset.type
    if not isinstance(spec, UserFormat):
        raise DataError(
            f"dataset `{ctx.source}`: `type: user_defined` needs the format written as a mapping.",
            hint="write `type:` as a mapping, e.g. type: {field_instruction: question, field_output: answer, "
            'format: "Q: {instruction}\\nA: "}.',
        )
    check_templates(ctx.source, spec.format, spec.no_input_format, spec.system_format)
    return spec


@lru_cache(maxsize=64)
def check_templates(source: str, prompt: str, no_input: str | None, system: str) -> None:
    """Fail once, naming the key and the placeholder, if a template asks for a value no row can give."""
    for key, template, allowed in (
        ("format", prompt, PROMPT_KEYS),
        ("no_input_format", no_input, PROMPT_KEYS),
        ("system_format", system, SYSTEM_KEYS),
    ):
        if template is None:
            continue
        names = _placeholders(source, key, template)
        unknown = [name for name in names if name not in allowed]
        if unknown:
            known = ", ".join(f"{{{name}}}" for name in allowed)
            raise DataError(
                f"dataset `{source}`: `type.{key}` uses the placeholder {{{unknown[0]}}}, which is not one of {known}.",
                hint="use only those placeholders (they are filled from the field_* columns); "
                "write a literal brace as {{ or }}.",
            )


def _placeholders(source: str, key: str, template: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:  # a lone { or }
        raise DataError(
            f"dataset `{source}`: `type.{key}` is not a valid template ({exc}): {template!r}.",
            hint="write a literal brace as {{ or }}.",
        ) from None
