"""Mixing several dataset entries: `sampling_ratio` and the `val_set_size` hold-out, on row indices.

Both work on the indices of the rows each entry kept after cleaning, so they are seeded, cheap, and know which
entry every row came from (the report counts train/eval rows per entry).
"""

from __future__ import annotations

import math

import numpy as np

from hellbender.errors import DataError


def sample_indices(indices: np.ndarray, ratio: float, seed: int) -> np.ndarray:
    """`ratio` times the rows: the integer part as whole copies, the fraction as a seeded subsample (no repeats).

    0.5 of 10 rows → 5 distinct rows; 2.5 of 10 rows → every row twice plus 5 distinct rows once more.
    """
    whole = int(ratio)
    extra = round((ratio - whole) * len(indices))
    rng = np.random.default_rng(seed)
    remainder = np.sort(rng.choice(indices, size=extra, replace=False)) if extra else indices[:0]
    return np.concatenate([np.tile(indices, whole), remainder]).astype(np.int64)


def hold_out(train: list[np.ndarray], size: float, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Move a seeded `val_set_size` share of the training rows (all entries together) to evaluation.

    `size` below 1 is a fraction (rounded up, as `datasets.train_test_split` does), 1 or more a row count.
    Returns (training rows, held-out rows), per entry.
    """
    total = sum(len(rows) for rows in train)
    count = int(size) if size >= 1 else math.ceil(size * total)
    if count >= total or total < 2:
        raise DataError(
            f"val_set_size={size} asks for {count} validation rows out of {total} prepared training rows, "
            "leaving none to train on.",
            hint="lower val_set_size, add data, or set val_set_size: 0.",
        )
    owner = np.concatenate([np.full(len(rows), entry) for entry, rows in enumerate(train)])
    chosen = np.zeros(total, dtype=bool)
    chosen[np.random.default_rng(seed).permutation(total)[:count]] = True
    flat = np.concatenate(train)
    kept = [flat[(owner == entry) & ~chosen] for entry in range(len(train))]
    held = [flat[(owner == entry) & chosen] for entry in range(len(train))]
    return kept, held
