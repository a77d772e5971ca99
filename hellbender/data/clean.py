"""Which tokenized rows are kept, and why the others were dropped, counted per dataset entry.

Everything here works on the small per-row columns the encoder wrote (lengths, counts, digests), as numpy arrays,
never re-reading the token lists; the selection and truncation happen once at the end (`kept_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import numpy as np

from hellbender.data.report import HISTOGRAM_BUCKETS, SourceReport
from hellbender.data.sources import InvalidRows
from hellbender.errors import DataError


@dataclass
class Tokenized:
    """One dataset entry after the map: its rows, which survive so far, and where each goes."""

    data: datasets.Dataset
    report: SourceReport
    keep: np.ndarray  # bool per row
    to_eval: np.ndarray  # bool per row: evaluation set (test_datasets entry, or `split: test|validation`)


def drop_invalid(part: Tokenized, invalid: InvalidRows) -> None:
    """Rows a format rejected: the first one raises (`invalid_rows: error`), or all are counted (`drop`)."""
    reasons = list(part.data["invalid"])
    bad = [index for index, reason in enumerate(reasons) if reason]
    if bad and not invalid.drop:
        hint = part.data[bad[0]]["invalid_hint"] or "fix the row, or set `invalid_rows: drop` to skip invalid rows"
        raise DataError(reasons[bad[0]], hint=hint + " (`preprocess` counts skipped rows and shows the first reasons).")
    for index in bad:
        invalid.add(DataError(reasons[index]))
    part.keep[bad] = False
    part.report.dropped_invalid = invalid.count
    part.report.invalid_reasons = list(invalid.reasons)


def drop_by_length(part: Tokenized, limit: int, strategy: str) -> None:
    """Apply `excess_length_strategy`, then drop rows with nothing left to train."""
    lengths = np.asarray(part.data["length"], dtype=np.int64)
    too_long = (lengths > limit) & part.keep
    if strategy == "truncate":
        part.report.truncated = int(too_long.sum())
    else:
        part.report.dropped_too_long = int(too_long.sum())
        part.keep &= ~too_long
    nothing = (np.asarray(part.data["trained_in_limit"], dtype=np.int64) == 0) & part.keep
    part.report.dropped_nothing_trained = int(nothing.sum())
    part.keep &= ~nothing


def deduplicate(parts: list[Tokenized]) -> None:
    """Drop rows whose tokens and labels equal an earlier row's, counted on the entry that lost the row.

    Order: every entry's training rows (in config order), then the evaluation rows, so an evaluation row that
    repeats a training row is removed (no leak) rather than the training copy.
    """
    seen: set[str] = set()
    for want_eval in (False, True):
        for part in parts:
            digests = part.data["digest"]
            for index in np.flatnonzero(part.keep & (part.to_eval == want_eval)):
                value = digests[int(index)]
                if value in seen:
                    part.keep[index] = False
                    part.report.dropped_duplicate += 1
                else:
                    seen.add(value)


def record_token_stats(part: Tokenized, limit: int) -> None:
    """Token figures of the kept rows (each once), as training will see them after truncation."""
    report, keep = part.report, part.keep
    lengths = np.minimum(np.asarray(part.data["length"], dtype=np.int64), limit)[keep]
    report.rows_out = int(keep.sum())
    report.tokens = int(lengths.sum())
    report.trained_tokens = int(np.asarray(part.data["trained_in_limit"], dtype=np.int64)[keep].sum())
    report.boundary_tokens = int(np.asarray(part.data["boundary_tokens"], dtype=np.int64)[keep].sum())
    report.longest = int(lengths.max()) if len(lengths) else 0
    edges = np.linspace(0, limit, HISTOGRAM_BUCKETS + 1)
    edges[0] = -1  # a 0-token row still lands in the first bucket
    report.length_histogram = np.histogram(lengths, bins=edges)[0].astype(int).tolist()


def kept_rows(part: Tokenized, indices: np.ndarray, limit: int) -> datasets.Dataset:
    """The rows at `indices` (may repeat), only `input_ids`/`labels`, cut to `limit` tokens where needed."""
    helper = [c for c in part.data.column_names if c not in ("input_ids", "labels")]
    rows = part.data.select(indices).remove_columns(helper)
    if part.report.truncated:
        rows = rows.map(
            lambda batch: {
                "input_ids": [ids[:limit] for ids in batch["input_ids"]],
                "labels": [labels[:limit] for labels in batch["labels"]],
            },
            batched=True,
        )
    return rows
