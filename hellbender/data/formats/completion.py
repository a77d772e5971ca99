"""`type: completion` — raw text, every token trained: continued pre-training on documents or `.txt` files.

The text comes from the `field` column (default `text`, which is also what the `text` loader gives each line of a
`.txt` file). The format writes bos (when the tokenizer adds one by default) and eos itself, once, so documents stay
separated when samples are packed together.
"""

from __future__ import annotations

from typing import Any

from hellbender.data.formats import register
from hellbender.data.formats.base import FormatContext, Segment, require_text

DEFAULT_FIELD = "text"


@register("completion")
def completion(row: dict[str, Any], index: int, ctx: FormatContext) -> list[Segment]:
    field = ctx.dataset.field or DEFAULT_FIELD
    text = require_text(row, field, index, ctx)
    if not text.strip():
        # an empty row would train on a lone eos; in a .txt file it is usually a blank line between paragraphs
        raise ctx.row_error(
            index,
            f"field `{field}` is empty.",
            hint="remove empty rows (blank lines, for a .txt file), or set `invalid_rows: drop` to skip them.",
        )
    return [Segment(ctx.bos_text + text + (ctx.tokenizer.eos_token or ""), True)]
