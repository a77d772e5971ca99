"""Per-epoch batches for one process: shuffled rows, rows grouped by length, or packed bins.

Why not a `torch.utils.data.DataLoader` prepared by Accelerate: with packing the batch count changes from epoch to
epoch (a new packing each epoch), and Accelerate evens out uneven shards by repeating samples, which would train or
evaluate some rows twice. Here every epoch's plan is a pure function of `(seed, epoch)`: a list of global batches,
each cut into one slice per process. A process whose slice is empty (the last batch of an epoch) gets an empty batch
— no trained tokens, so the token-normalized loss is unchanged — and every process runs the same number of steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

import datasets
import numpy as np
import pyarrow.compute as pc
import torch

from hellbender.config import Config
from hellbender.data.packing import PackingStats, pack_epoch

# Rows per length-sorted chunk with group_by_length, in global batches: big enough to group well, small enough that
# batch order stays random across the epoch.
_LENGTH_GROUP_BATCHES = 64


def row_lengths(data: datasets.Dataset) -> np.ndarray:
    """Token count of every row, read from Arrow's list offsets (no token list is copied into Python).

    A selected/shuffled dataset is a view (an indices mapping over the full table): lengths follow the mapping.
    """
    column = data.data.column("input_ids")
    lengths = np.asarray(pc.list_value_length(column).to_numpy(zero_copy_only=False), dtype=np.int64)
    if data._indices is not None:
        lengths = lengths[data._indices.column(0).to_numpy()]
    return lengths


@dataclass(frozen=True)
class BatchPlan:
    """How rows become batches; the same plan on every process."""

    batch_size: int  # rows (or packed bins) per process per batch
    sequence_len: int
    packing: bool = False
    group_by_length: bool = False
    shuffle: bool = True
    seed: int = 42
    group_size: int = 100_000
    max_per_bin: int = 200
    world_size: int = 1  # processes sharing each global batch (group_by_length sorts within global batches)

    @classmethod
    def from_config(cls, config: Config, train: bool = True) -> BatchPlan:
        """Training batches (shuffled, `micro_batch_size`) or evaluation ones (in order, `eval_batch_size`)."""
        packing = config.sample_packing if train or config.eval_sample_packing is None else config.eval_sample_packing
        return cls(
            batch_size=config.micro_batch_size if train else (config.eval_batch_size or config.micro_batch_size),
            sequence_len=config.sequence_len,
            packing=packing,
            group_by_length=config.group_by_length and train,
            shuffle=train,
            seed=config.seed,
            group_size=config.sample_packing_group_size,
            max_per_bin=config.sample_packing_bin_size,
        )


def plan_bins(lengths: np.ndarray, plan: BatchPlan, epoch: int) -> list[list[int]]:
    """The epoch's units of batching in order: packed bins, or one row each (shuffled, maybe grouped by length)."""
    if plan.packing:
        return pack_epoch(
            lengths,
            plan.sequence_len,
            seed=plan.seed,
            epoch=epoch,
            group_size=plan.group_size,
            max_per_bin=plan.max_per_bin,
            shuffle=plan.shuffle,
        )
    if not plan.shuffle:
        return [[i] for i in range(len(lengths))]
    rng = np.random.default_rng([plan.seed, epoch])
    order = rng.permutation(len(lengths))
    if plan.group_by_length:
        order = _grouped_by_length(order, lengths, plan.batch_size * plan.world_size, rng)
    return [[int(i)] for i in order]


def _grouped_by_length(
    order: np.ndarray, lengths: np.ndarray, global_batch: int, rng: np.random.Generator
) -> np.ndarray:
    """Sort rows by length within chunks, then shuffle whole global batches: similar lengths share a batch."""
    chunk = global_batch * _LENGTH_GROUP_BATCHES
    parts = [order[i : i + chunk] for i in range(0, len(order), chunk)]
    order = np.concatenate([p[np.argsort(-lengths[p], kind="stable")] for p in parts])
    full = len(order) // global_batch * global_batch
    batches = [order[i : i + global_batch] for i in range(0, full, global_batch)]
    # only whole batches move, and a short remainder stays last: cutting the order later keeps every batch
    return np.concatenate([*(batches[i] for i in rng.permutation(len(batches))), order[full:]])


def packing_stats(lengths: np.ndarray, plan: BatchPlan, epoch: int = 0) -> PackingStats:
    """How full the epoch's sequences are: packed bins, or (unpacked) one row per sequence_len slot."""
    bins = plan_bins(lengths, plan, epoch) if plan.packing else [[i] for i in range(len(lengths))]
    return PackingStats.of(bins, lengths, plan.sequence_len)


class BatchLoader:
    """Iterates this process's batches of the current epoch (`set_epoch` picks it), already on `device`."""

    def __init__(
        self,
        data: datasets.Dataset,
        plan: BatchPlan,
        collate: Callable[[list[Any]], dict[str, torch.Tensor]],
        *,
        rank: int = 0,
        world_size: int = 1,
        device: torch.device | str = "cpu",
    ) -> None:
        self.data = data.with_format(None)
        self.plan = plan
        self.collate = collate
        self.rank, self.world_size, self.device = rank, world_size, torch.device(device)
        self.lengths = row_lengths(data)
        self.epoch = 0
        self._cached: tuple[int, list[list[list[int]]]] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def bins(self, epoch: int) -> list[list[int]]:
        return plan_bins(self.lengths, replace(self.plan, world_size=self.world_size), epoch)

    def _global_batches(self, epoch: int) -> list[list[list[int]]]:
        if self._cached is None or self._cached[0] != epoch:
            bins = self.bins(epoch)
            size = self.plan.batch_size * self.world_size
            self._cached = (epoch, [bins[i : i + size] for i in range(0, len(bins), size)])
        return self._cached[1]

    def batches_in_epoch(self, epoch: int) -> int:
        return len(self._global_batches(epoch))

    def __len__(self) -> int:
        return self.batches_in_epoch(self.epoch)

    def packing_stats(self, epoch: int = 0) -> PackingStats:
        return packing_stats(self.lengths, self.plan, epoch)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        start = self.rank * self.plan.batch_size
        for global_batch in self._global_batches(self.epoch):
            mine = global_batch[start : start + self.plan.batch_size]
            yield {k: v.to(self.device) for k, v in self.collate(self._rows(mine)).items()}

    def _rows(self, bins: list[list[int]]) -> list[Any]:
        """Fetch the rows of `bins` in one Arrow read; bins of rows when packing, else a flat list of rows."""
        flat = [i for b in bins for i in b]
        if not flat:
            return []
        columns = self.data[flat]
        rows = [{"input_ids": ids, "labels": labels} for ids, labels in zip(columns["input_ids"], columns["labels"])]
        if not self.plan.packing:
            return rows
        out, at = [], 0
        for b in bins:
            out.append(rows[at : at + len(b)])
            at += len(b)
        return out


def steps_in_epochs(loader: BatchLoader, accumulation: int, num_epochs: float) -> tuple[int, int]:
    """(optimizer steps in the first epoch, steps in `num_epochs` epochs), counting each epoch's own batches."""
    epochs = Fraction(str(num_epochs))  # exact: 1.1 epochs of 10 steps is 11 steps, not ceil(11.000000000000002)
    per_epoch = [math.ceil(loader.batches_in_epoch(e) / accumulation) for e in range(math.ceil(epochs))]
    whole = int(epochs)
    total = sum(per_epoch[:whole])
    if epochs > whole:
        total += math.ceil((epochs - whole) * per_epoch[whole])
    return max(1, per_epoch[0]), max(1, total)
