"""The batched `datasets.map` function: raw rows → tokens, labels and the small per-row columns the later stages
read (lengths, trained counts, digests, where the row goes, why it is invalid) instead of re-reading token lists.

A row a format rejects never stops the map: its reason is written to the `invalid` column, and the pipeline then
raises the first one (`invalid_rows: error`) or counts them (`drop`). This keeps the error, with its hint, intact
when the map runs in several processes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerBase

from hellbender.data.formats.base import FormatContext, FormatFn, Pretokenized, Segment
from hellbender.data.sources import JSON_ROW_COLUMN
from hellbender.data.tokenize import IGNORE_INDEX, tokenize_batch
from hellbender.errors import DataError

SPLIT_COLUMN = "split"
# OpenAI fine-tuning JSONL style: a row's `split` says where it belongs (True = evaluation set).
SPLIT_VALUES = {"train": False, "test": True, "validation": True}
HELPER_COLUMNS = ["length", "trained_in_limit", "boundary_tokens", "digest", "to_eval", "invalid", "invalid_hint"]


def route(row: dict[str, Any], index: int, ctx: FormatContext) -> bool:
    """Remove the row's `split` field (formats never see it) and say whether the row is for evaluation."""
    value = row.pop(SPLIT_COLUMN, None)
    if value is None or value == "":
        return False
    if value not in SPLIT_VALUES:
        raise ctx.row_error(
            index,
            f"field `split` is {value!r}; expected train, test or validation.",
            hint="fix the value, or rename the column if it is not meant to route rows.",
        )
    return SPLIT_VALUES[value]


def digest(input_ids: list[int], labels: list[int]) -> str:
    """Hash of tokens and labels together: rows equal in both are duplicates (lengths are equal by construction)."""
    both = np.concatenate([np.asarray(input_ids, dtype=np.int64), np.asarray(labels, dtype=np.int64)])
    return hashlib.blake2b(both.tobytes(), digest_size=16).hexdigest()


def make_encoder(
    format_row: FormatFn,
    ctx: FormatContext,
    tokenizer: PreTrainedTokenizerBase,
    limit: int,
    *,
    all_eval: bool,
) -> Callable[[dict[str, list[Any]], list[int]], dict[str, list[Any]]]:
    """The map function for one dataset entry; `all_eval` for `test_datasets` entries (every row is evaluation)."""

    def encode(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
        if JSON_ROW_COLUMN in batch:
            rows = [json.loads(row[JSON_ROW_COLUMN]) for row in rows]
        formatted: list[list[Segment] | Pretokenized] = []
        to_eval, errors = [], []
        for row, index in zip(rows, indices):
            for_eval, error, result = all_eval, None, Pretokenized([], [])
            try:
                for_eval = route(row, index, ctx) or all_eval
                result = format_row(row, index, ctx)
            except DataError as exc:
                error = exc
            to_eval.append(for_eval)
            formatted.append(result)
            errors.append(error)
        encoded = tokenize_batch(formatted, tokenizer)
        return {
            "input_ids": [r.input_ids for r in encoded],
            "labels": [r.labels for r in encoded],
            "length": [len(r.input_ids) for r in encoded],
            # counted within sequence_len, so it is also right for rows that `truncate` will cut
            "trained_in_limit": [sum(1 for label in r.labels[:limit] if label != IGNORE_INDEX) for r in encoded],
            "boundary_tokens": [r.boundary_tokens for r in encoded],
            "digest": [digest(r.input_ids[:limit], r.labels[:limit]) for r in encoded],
            "to_eval": to_eval,
            "invalid": [e.message if e else "" for e in errors],
            "invalid_hint": [(e.hint or "") if e else "" for e in errors],
        }

    return encode
