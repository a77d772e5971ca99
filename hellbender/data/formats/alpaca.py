"""`type: alpaca` and its Axolotl variants — rows with an instruction, an optional input and a response.

`alpaca` is the Stanford Alpaca template (what Axolotl's `alpaca` type renders). The variants are the other
renderings Axolotl configs use for the same row shape, each one `AlpacaVariant` entry below, so adding one is a
table row, not a new code path. In every variant the response and the eos token after it are trained, the prompt
only when `train_on_inputs` is set; column names follow `field_instruction` / `field_input` / `field_output` /
`field_system` when the dataset entry sets them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hellbender.data.formats import register
from hellbender.data.formats.base import FormatContext, Segment, require_text

PREAMBLE_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request."
)
PREAMBLE_NO_INPUT = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request."
)
PROMPT_WITH_INPUT = (
    PREAMBLE_WITH_INPUT + "\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
)
PROMPT_NO_INPUT = PREAMBLE_NO_INPUT + "\n\n### Instruction:\n{instruction}\n\n### Response:\n"
SYSTEM_PREFIX = "### System:\n{system}\n\n"


def alpaca_prompt(instruction: str, input_text: str = "", system: str = "") -> str:
    """The alpaca prompt (everything up to the response); also used to build inference prompts."""
    prompt = (
        PROMPT_WITH_INPUT.format(instruction=instruction, input=input_text)
        if input_text.strip()
        else PROMPT_NO_INPUT.format(instruction=instruction)
    )
    return SYSTEM_PREFIX.format(system=system) + prompt if system.strip() else prompt


@dataclass(frozen=True)
class Columns:
    """Where a row keeps each part; `input` / `system` None = the variant has no such column."""

    instruction: str
    input: str | None
    output: str
    system: str | None

    def read(self, row: dict[str, Any], index: int, ctx: FormatContext) -> tuple[str, str, str, str]:
        """(instruction, input, output, system) of a row; the config's `field_*` keys rename the columns."""
        ds = ctx.dataset
        instruction = require_text(row, ds.field_instruction or self.instruction, index, ctx)
        input_column = ds.field_input or self.input
        system_column = ds.field_system or self.system
        input_text = require_text(row, input_column, index, ctx, optional=True) if input_column else ""
        system = require_text(row, system_column, index, ctx, optional=True) if system_column else ""
        return instruction, input_text, require_text(row, ds.field_output or self.output, index, ctx), system


ALPACA_COLUMNS = Columns("instruction", "input", "output", "system")


def _response(prompt: str, output: str, ctx: FormatContext) -> list[Segment]:
    eos = ctx.tokenizer.eos_token or ""
    return [Segment(ctx.bos_text + prompt, ctx.train_on_inputs), Segment(output + eos, True)]


@register("alpaca")
def alpaca(row: dict[str, Any], index: int, ctx: FormatContext) -> list[Segment]:
    instruction, input_text, output, system = ALPACA_COLUMNS.read(row, index, ctx)
    return _response(alpaca_prompt(instruction, input_text, system), output, ctx)


@dataclass(frozen=True)
class AlpacaVariant:
    """One Axolotl rendering of an alpaca row.

    The prompt is `system_format` filled with the row's system text (or the default for rows without one; nothing
    when both are empty), then `turn` — or `turn_no_input` when the input is empty or only whitespace.
    """

    turn: str  # {instruction}, {input}
    turn_no_input: str  # {instruction}
    system_format: str  # {system}
    columns: Columns = ALPACA_COLUMNS
    default_system: str = ""  # for rows with an input and no system text
    default_system_no_input: str = ""  # for rows without either

    def prompt(self, instruction: str, input_text: str, system: str) -> str:
        if not system.strip():
            system = self.default_system if input_text.strip() else self.default_system_no_input
        head = self.system_format.format(system=system) if system.strip() else ""
        if input_text.strip():
            return head + self.turn.format(instruction=instruction, input=input_text)
        return head + self.turn_no_input.format(instruction=instruction)

    def format_row(self, row: dict[str, Any], index: int, ctx: FormatContext) -> list[Segment]:
        instruction, input_text, output, system = self.columns.read(row, index, ctx)
        return _response(self.prompt(instruction, input_text, system), output, ctx)


CHAT_TURN = "USER: {instruction}\n{input}\nASSISTANT:"
CHAT_TURN_NO_INPUT = "USER: {instruction}\nASSISTANT:"
CHAT_SYSTEM = "SYSTEM: {system}\n"
INSTRUCT_TURN = "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
INSTRUCT_TURN_NO_INPUT = "### Instruction:\n{instruction}\n\n### Response:\n"
ORCA_COLUMNS = Columns("question", None, "response", "system_prompt")

VARIANTS: dict[str, AlpacaVariant] = {
    # USER:/ASSISTANT: turns under Axolotl's default alpaca preamble (a row's system text replaces it)
    "alpaca_chat": AlpacaVariant(
        CHAT_TURN,
        CHAT_TURN_NO_INPUT,
        CHAT_SYSTEM,
        default_system=PREAMBLE_WITH_INPUT,
        default_system_no_input=PREAMBLE_NO_INPUT,
    ),
    "alpaca_chat.load_qa": AlpacaVariant(
        CHAT_TURN,
        CHAT_TURN_NO_INPUT,
        CHAT_SYSTEM,
        Columns("question", None, "answer", "system"),
        PREAMBLE_WITH_INPUT,
        PREAMBLE_NO_INPUT,
    ),
    # the system prompt comes from each row; no preamble when a row has none
    "alpaca_w_system": AlpacaVariant(CHAT_TURN, CHAT_TURN_NO_INPUT, CHAT_SYSTEM),
    "alpaca_w_system.load_instruct": AlpacaVariant(INSTRUCT_TURN, INSTRUCT_TURN_NO_INPUT, "{system}\n\n"),
    "alpaca_w_system.load_open_orca": AlpacaVariant(
        "### Human:\n{instruction}\n### Additional Context:\n{input}\n### Assistant:\n",
        "### Human:\n{instruction}\n### Assistant:\n",
        "### System:\n{system}\n",
        ORCA_COLUMNS,
    ),
    "alpaca_w_system.load_open_orca_chatml": AlpacaVariant(
        "<|im_start|>user\n{instruction}\n{input}<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>user\n{instruction}<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>system\n{system}<|im_end|>\n",
        ORCA_COLUMNS,
    ),
}


for _name, _variant in VARIANTS.items():
    register(_name)(_variant.format_row)
