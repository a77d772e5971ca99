"""`type: pretokenized` — rows that are already token ids, for data tokenized elsewhere.

A row has `input_ids`, optionally `labels` and `attention_mask`, all the same length. Labels follow the Hugging Face
convention: `labels[i]` is the token at position i (the model shifts them itself), -100 = not trained. Without
`labels` every token is trained, whatever `train_on_inputs` says: there is no prompt to tell apart. Given labels
are used as they are (`train_on_inputs` does not untrain or retrain them); a label that differs from the input id
at its position is accepted (some pipelines train a different target there) as long as it is a valid id.
Positions whose `attention_mask` is 0 (padding) are dropped. The ids are checked against this tokenizer's
vocabulary, so data tokenized for another model fails here rather than as a CUDA index error mid-training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hellbender.data.formats import register
from hellbender.data.formats.base import FormatContext, Pretokenized
from hellbender.data.tokenize import IGNORE_INDEX

ROW_HINT = "a pretokenized row needs `input_ids` (and may have `labels` and `attention_mask` of the same length)."


@register("pretokenized")
def pretokenized(row: dict[str, Any], index: int, ctx: FormatContext) -> Pretokenized:
    if row.get("input_ids") is None:
        seen = ", ".join(sorted(k for k, v in row.items() if v is not None)) or "(none)"
        raise ctx.row_error(index, f"missing field `input_ids` (fields present: {seen}).", hint=ROW_HINT)
    ids = _int_array(row["input_ids"], "input_ids", index, ctx)
    if ids.size == 0:
        raise ctx.row_error(index, "field `input_ids` is empty.", hint="drop rows without tokens.")
    vocab = len(ctx.tokenizer)  # includes added tokens
    _check_range(ids, "input_ids", vocab, index, ctx, allow_ignore=False)
    labels = _same_length(row, "labels", ids.size, index, ctx)
    if labels is None:
        labels = ids
    else:
        _check_range(labels, "labels", vocab, index, ctx, allow_ignore=True)
    mask = _same_length(row, "attention_mask", ids.size, index, ctx)
    if mask is not None:
        bad = np.flatnonzero((mask != 0) & (mask != 1))
        if bad.size:
            raise ctx.row_error(
                index, f"field `attention_mask`: attention_mask[{bad[0]}] is {mask[bad[0]]}, not 0 or 1."
            )
        ids, labels = ids[mask == 1], labels[mask == 1]
    return Pretokenized(input_ids=ids.tolist(), labels=labels.tolist())


def _same_length(row: dict[str, Any], field: str, length: int, index: int, ctx: FormatContext) -> np.ndarray | None:
    """An optional per-token column, or None when the row does not have it."""
    if row.get(field) is None:
        return None
    array = _int_array(row[field], field, index, ctx)
    if array.size != length:
        raise ctx.row_error(
            index,
            f"field `{field}` has {array.size} value(s) but `input_ids` has {length}.",
            hint=f"give `{field}` one value per token of `input_ids`.",
        )
    return array


def _int_array(value: Any, field: str, index: int, ctx: FormatContext) -> np.ndarray:
    if not isinstance(value, list | tuple | np.ndarray):
        raise ctx.row_error(index, f"field `{field}` must be a list of integers, got {type(value).__name__}.")
    if not all(_is_int(v) for v in value):
        position, item = next((i, v) for i, v in enumerate(value) if not _is_int(v))
        raise ctx.row_error(index, f"field `{field}`: {field}[{position}] is {item!r}, not an integer.")
    try:
        return np.asarray(value, dtype=np.int64)
    except OverflowError:  # beyond int64: certainly no token id
        raise ctx.row_error(index, f"field `{field}` holds an integer too large to be a token id.") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_range(
    array: np.ndarray, field: str, vocab: int, index: int, ctx: FormatContext, *, allow_ignore: bool
) -> None:
    valid = (array >= 0) & (array < vocab)
    if allow_ignore:
        valid |= array == IGNORE_INDEX
    bad = np.flatnonzero(~valid)
    if bad.size:
        allowed = f"0..{vocab - 1}" + (f" or {IGNORE_INDEX}" if allow_ignore else "")
        raise ctx.row_error(
            index,
            f"field `{field}`: {field}[{bad[0]}] is {array[bad[0]]}, outside this tokenizer's vocabulary ({allowed}).",
            hint="tokenize the data with the same tokenizer as the model being trained.",
        )
