"""Sample packing (DESIGN.md decision 4): tokenized rows grouped into bins of at most `sequence_len` tokens.

Packing is a data stage: it decides which rows share a sequence; `collate.PackedCollator` then lays them out with
`position_ids` restarting at 0 per row and the first label of each row masked, which is all the model needs to keep
rows apart (transformers derives a block-causal mask or varlen flash boundaries from the restarting positions).

The algorithm is best-fit-decreasing: rows in decreasing length, each into the open bin with the least room that
still fits it, else a new bin. With many rows shorter than the bin it leaves almost no gaps (see bench/packing.py).
Each epoch shuffles the rows into groups of `sample_packing_group_size` (bins never mix groups), packs each group and
shuffles the bins, all from `seed + epoch`: a different but reproducible packing every epoch.

Why hand-written: `datasets` has no bin packing, and TRL's `pack_dataset` works on a whole dataset once (no per-epoch
repack, no per-bin sample limit) and would pull TRL in as a training dependency.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def best_fit_decreasing(lengths: Sequence[int], capacity: int, max_per_bin: int | None = None) -> list[list[int]]:
    """Pack items (given by length) into as few bins of `capacity` as best-fit-decreasing finds.

    Returns bins as lists of item indices. Ties in length keep their input order, so shuffling the input changes
    which equal-length items share a bin. Every length must be between 1 and `capacity`.

    >>> best_fit_decreasing([5, 3, 4, 2, 6], capacity=10)
    [[4, 2], [0, 1, 3]]
    """
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    bins: list[list[int]] = []
    open_bins: dict[int, list[int]] = {}  # room left -> bins with exactly that room (a stack)
    rooms: list[int] = []  # sorted distinct keys of open_bins: bisect finds the tightest fit in O(log)
    for index in order.tolist():
        size = int(lengths[index])
        if not 0 < size <= capacity:
            raise ValueError(f"item {index} has length {size}, outside 1..{capacity}")
        at = bisect.bisect_left(rooms, size)
        if at < len(rooms):
            room = rooms[at]
            stack = open_bins[room]
            target = stack.pop()
            if not stack:
                del open_bins[room]
                rooms.pop(at)
        else:
            room, target = capacity, len(bins)
            bins.append([])
        bins[target].append(index)
        room -= size
        if room > 0 and (max_per_bin is None or len(bins[target]) < max_per_bin):
            if room not in open_bins:
                bisect.insort(rooms, room)
                open_bins[room] = []
            open_bins[room].append(target)
    return bins


def pack_epoch(
    lengths: np.ndarray,
    capacity: int,
    *,
    seed: int,
    epoch: int,
    group_size: int,
    max_per_bin: int,
    shuffle: bool = True,
) -> list[list[int]]:
    """The bins (lists of row indices) of one epoch: seeded shuffle, groups, best-fit-decreasing, shuffled bins.

    Without `shuffle` (evaluation) rows are packed in their order and bins come out in a fixed order.
    """
    rng = np.random.default_rng([seed, epoch])
    rows = rng.permutation(len(lengths)) if shuffle else np.arange(len(lengths))
    bins: list[list[int]] = []
    for start in range(0, len(rows), group_size):
        group = rows[start : start + group_size]
        for packed in best_fit_decreasing(lengths[group], capacity, max_per_bin):
            bins.append(group[packed].tolist())
    if shuffle:
        bins = [bins[i] for i in rng.permutation(len(bins))]
    return bins


@dataclass(frozen=True)
class PackingStats:
    """How well one packing fills its bins: what `preprocess` and the run report show."""

    rows: int
    bins: int
    tokens: int
    slots: int  # bins * sequence_len: the token positions a padded-to-full-length run computes
    efficiency: float  # tokens / slots
    padding_fraction: float  # 1 - efficiency
    mean_rows_per_bin: float

    @classmethod
    def of(cls, bins: list[list[int]], lengths: np.ndarray, capacity: int) -> PackingStats:
        tokens = int(lengths.sum())
        slots = len(bins) * capacity
        efficiency = tokens / slots if slots else 0.0
        return cls(
            rows=len(lengths),
            bins=len(bins),
            tokens=tokens,
            slots=slots,
            efficiency=round(efficiency, 4),
            padding_fraction=round(1 - efficiency, 4) if slots else 0.0,
            mean_rows_per_bin=round(len(lengths) / len(bins), 2) if bins else 0.0,
        )
