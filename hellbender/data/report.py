"""What preprocessing did to each dataset entry, kept with the cache (report.json) and shown by `preprocess`."""

from __future__ import annotations

from dataclasses import dataclass, field

HISTOGRAM_BUCKETS = 8  # equal-width token-length buckets from 0 to sequence_len


@dataclass
class SourceReport:
    """Row and token counts of one `datasets:` (kind "train") or `test_datasets:` (kind "test") entry.

    Drop counts are in pipeline order (invalid → too long → nothing trained → duplicate), each among the rows the
    previous steps kept. Token figures describe the `rows_out` rows, each counted once (before `sampling_ratio`).
    """

    source: str
    kind: str = "train"
    rows_in: int = 0
    dropped_invalid: int = 0
    invalid_reasons: list[str] = field(default_factory=list)
    dropped_too_long: int = 0
    truncated: int = 0
    dropped_nothing_trained: int = 0
    dropped_duplicate: int = 0
    rows_out: int = 0
    sampling_ratio: float = 1.0
    sampled: int = 0  # rows added (+, repetition) or removed (-, subsample) by sampling_ratio
    train_rows: int = 0
    eval_rows: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    boundary_tokens: int = 0
    longest: int = 0
    length_histogram: list[int] = field(default_factory=list)
    note: str = ""

    def drop_reasons(self) -> dict[str, int]:
        return {
            "invalid": self.dropped_invalid,
            "too long": self.dropped_too_long,
            "nothing trained": self.dropped_nothing_trained,
            "duplicate": self.dropped_duplicate,
        }
