"""`type: input_output` — template-free rows: the user writes every character, and says which pieces are trained.

A row is `{"segments": [{"text": ..., "label": true|false}, ...]}`. The texts are joined verbatim, with nothing
added: no bos, no eos, no separators — the user writes the special tokens they want trained (e.g. the eos text at
the end of a trained piece). `label: true` pieces are trained; the others only when `train_on_inputs` is set.
"""

from __future__ import annotations

from typing import Any

from hellbender.data.formats import register
from hellbender.data.formats.base import FormatContext, Segment

FIELD = "segments"
SHAPE_HINT = 'each row needs `segments`: a list of {"text": "...", "label": true|false}.'


@register("input_output")
def input_output(row: dict[str, Any], index: int, ctx: FormatContext) -> list[Segment]:
    pieces = row.get(FIELD)
    if pieces is None:
        seen = ", ".join(sorted(k for k, v in row.items() if v is not None)) or "(none)"
        raise ctx.row_error(index, f"missing field `{FIELD}` (fields present: {seen}).", hint=SHAPE_HINT)
    if not isinstance(pieces, list) or not pieces:
        what = "an empty list" if isinstance(pieces, list) else type(pieces).__name__
        raise ctx.row_error(index, f"`{FIELD}` must be a non-empty list, got {what}.", hint=SHAPE_HINT)
    return [_segment(piece, number, index, ctx) for number, piece in enumerate(pieces)]


def _segment(piece: Any, number: int, index: int, ctx: FormatContext) -> Segment:
    where = f"`{FIELD}[{number}]`"
    if not isinstance(piece, dict):
        raise ctx.row_error(index, f"{where} must be an object, got {type(piece).__name__}.", hint=SHAPE_HINT)
    text, label = piece.get("text"), piece.get("label")
    if not isinstance(text, str):
        got = "nothing" if text is None else type(text).__name__
        raise ctx.row_error(index, f"{where}: `text` must be text, got {got}.", hint=SHAPE_HINT)
    if not isinstance(label, bool):
        got = "nothing" if label is None else f"{label!r}"
        raise ctx.row_error(index, f"{where}: `label` must be true or false, got {got}.", hint=SHAPE_HINT)
    return Segment(text, label or ctx.train_on_inputs)
