"""`type: alpaca` — rows with `instruction`, optional `input`, `output` (and optional `system`).

The prompt is the Stanford Alpaca template (what Axolotl's `alpaca` type renders); the response and the eos token
after it are trained, the prompt only when `train_on_inputs` is set.
"""

from __future__ import annotations

from typing import Any

from hellbender.data.formats import register
from hellbender.data.formats.base import FormatContext, Segment, require_text

PROMPT_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:\n"
)
SYSTEM_PREFIX = "### System:\n{system}\n\n"


def alpaca_prompt(instruction: str, input_text: str = "", system: str = "") -> str:
    """The alpaca prompt (everything up to the response); also used to build inference prompts."""
    prompt = (
        PROMPT_WITH_INPUT.format(instruction=instruction, input=input_text)
        if input_text.strip()
        else PROMPT_NO_INPUT.format(instruction=instruction)
    )
    return SYSTEM_PREFIX.format(system=system) + prompt if system.strip() else prompt


@register("alpaca")
def alpaca(row: dict[str, Any], index: int, ctx: FormatContext) -> list[Segment]:
    prompt = alpaca_prompt(
        require_text(row, "instruction", index, ctx),
        require_text(row, "input", index, ctx, optional=True),
        require_text(row, "system", index, ctx, optional=True),
    )
    output = require_text(row, "output", index, ctx)
    eos = ctx.tokenizer.eos_token or ""
    return [Segment(ctx.bos_text + prompt, ctx.train_on_inputs), Segment(output + eos, True)]
