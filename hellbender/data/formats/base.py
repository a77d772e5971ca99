"""The contract between a prompt format and the tokenizer stage.

A format turns one raw row into `Segment`s: consecutive pieces of the final text, each trained or not. The text of
all segments joined is exactly the string that is tokenized once; labels follow the segment a token falls in.
Rows that arrive already tokenized come back as `Pretokenized` and skip the tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transformers import PreTrainedTokenizerBase

from hellbender.config import DatasetConfig
from hellbender.errors import DataError


@dataclass(frozen=True)
class Segment:
    text: str
    trained: bool


@dataclass(frozen=True)
class Pretokenized:
    """A row given as token ids (labels already decided, -100 = not trained)."""

    input_ids: list[int]
    labels: list[int]


@dataclass(frozen=True)
class FormatContext:
    """What a format may use besides the row: the tokenizer (templates, eos), its dataset entry and the masking rule."""

    tokenizer: PreTrainedTokenizerBase
    dataset: DatasetConfig
    train_on_inputs: bool = False
    chat_template: str | None = None  # resolved jinja text, for chat formats
    bos_text: str = ""  # the bos token's text when the tokenizer adds one by default, else ""
    default_system_message: str | None = None

    @property
    def source(self) -> str:
        return self.dataset.path

    def row_error(self, index: int, message: str, hint: str | None = None) -> DataError:
        return DataError(f"{self.source}, row {index + 1}: {message}", hint=hint)


# row, row index (0-based, for messages), context -> segments. The joined text is tokenized with
# add_special_tokens=False, so a format writes bos/eos itself (chat templates already do).
FormatFn = Callable[[dict[str, Any], int, FormatContext], "list[Segment] | Pretokenized"]


def require_text(row: dict[str, Any], field: str, index: int, ctx: FormatContext, *, optional: bool = False) -> str:
    """Return `row[field]` as a string, or fail naming the row and field."""
    if field not in row or row[field] is None:
        if optional:
            return ""
        seen = ", ".join(sorted(k for k, v in row.items() if v is not None)) or "(none)"
        raise ctx.row_error(index, f"missing field `{field}` (fields present: {seen}).")
    value = row[field]
    if not isinstance(value, str):
        raise ctx.row_error(index, f"field `{field}` must be text, got {type(value).__name__}.")
    return value
