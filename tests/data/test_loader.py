"""Per-process batches and collation: every row once per epoch across ranks, equal step counts, packed layouts."""

from __future__ import annotations

from collections import Counter

import datasets
import numpy as np
import pytest
import torch

from hellbender.data.collate import PackedCollator, PadCollator
from hellbender.data.loader import BatchLoader, BatchPlan, row_lengths, steps_in_epochs
from hellbender.data.packing import pack_epoch
from hellbender.data.tokenize import IGNORE_INDEX

PAD = 0


def token_rows(lengths: list[int]) -> datasets.Dataset:
    """Row i is `lengths[i]` copies of token i + 1, so any batch tells which rows (and how much of each) it holds."""
    ids = [[i + 1] * n for i, n in enumerate(lengths)]
    return datasets.Dataset.from_dict({"input_ids": ids, "labels": [list(row) for row in ids]})


def skewed_lengths(count: int, seed: int = 0) -> list[int]:
    """Mostly short rows and a few long ones: where padding to the longest row in a batch hurts."""
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(rng.lognormal(np.log(20), 1.0, size=count)), 1, 128).astype(int).tolist()


def loaders(data: datasets.Dataset, plan: BatchPlan, world_size: int) -> list[BatchLoader]:
    collate = PackedCollator(PAD) if plan.packing else PadCollator(PAD)
    return [BatchLoader(data, plan, collate, rank=r, world_size=world_size) for r in range(world_size)]


def token_counts(batches: list[dict[str, torch.Tensor]]) -> Counter:
    counts: Counter = Counter()
    for batch in batches:
        values = batch["input_ids"][batch["input_ids"] != PAD]
        counts.update(values.tolist())
    return counts


def epoch_batches(loader: BatchLoader, epoch: int) -> list[dict[str, torch.Tensor]]:
    loader.set_epoch(epoch)
    return list(loader)


def same(a: list[dict[str, torch.Tensor]], b: list[dict[str, torch.Tensor]]) -> bool:
    if len(a) != len(b):
        return False
    return all(x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x) for x, y in zip(a, b))


def test_row_lengths() -> None:
    assert row_lengths(token_rows([3, 1, 4])).tolist() == [3, 1, 4]


def test_row_lengths_follows_an_indices_mapping() -> None:
    assert row_lengths(token_rows([3, 1, 4]).select([2, 0])).tolist() == [4, 3]


@pytest.mark.parametrize("packing", [False, True])
@pytest.mark.parametrize("rows", [35, 50, 64])
def test_ranks_see_every_row_once_in_equal_steps(packing: bool, rows: int) -> None:
    lengths = skewed_lengths(rows)
    data = token_rows(lengths)
    plan = BatchPlan(batch_size=4, sequence_len=128, packing=packing, seed=1)
    ranks = loaders(data, plan, world_size=2)
    for epoch in (0, 1):
        per_rank = [epoch_batches(loader, epoch) for loader in ranks]
        assert len(per_rank[0]) == len(per_rank[1]) == ranks[0].batches_in_epoch(epoch) == len(ranks[1])
        seen = token_counts(per_rank[0] + per_rank[1])
        assert seen == Counter({i + 1: n for i, n in enumerate(lengths)})
        labelled = sum(int((b["labels"] != IGNORE_INDEX).sum()) for batches in per_rank for b in batches)
        assert labelled == sum(lengths) - (rows if packing else 0)  # packing masks each row's first label


@pytest.mark.parametrize("packing", [False, True])
def test_an_empty_slice_trains_nothing(packing: bool) -> None:
    # 35 rows (one per bin with group_size 1), 4 per rank and 2 ranks: the last global batch holds 3, rank 1 none.
    plan = BatchPlan(batch_size=4, sequence_len=128, packing=packing, group_size=1)
    rank0, rank1 = loaders(token_rows(skewed_lengths(35)), plan, world_size=2)
    last0, last1 = list(rank0)[-1], list(rank1)[-1]
    assert int(last0["num_tokens"]) > 0
    assert int(last1["num_tokens"]) == 0
    assert last1["input_ids"].shape == (1, 1)
    assert bool((last1["labels"] == IGNORE_INDEX).all())


@pytest.mark.parametrize("plan_keys", [{}, {"packing": True}, {"group_by_length": True}])
def test_batches_are_reproducible_and_change_per_epoch(plan_keys: dict) -> None:
    data = token_rows(skewed_lengths(60))
    plan = BatchPlan(batch_size=3, sequence_len=128, seed=5, **plan_keys)
    first, second = loaders(data, plan, 1)[0], loaders(data, plan, 1)[0]
    assert same(epoch_batches(first, 0), epoch_batches(second, 0))
    assert same(epoch_batches(first, 1), epoch_batches(second, 1))
    assert not same(epoch_batches(first, 0), epoch_batches(first, 1))
    other_seed = loaders(data, BatchPlan(batch_size=3, sequence_len=128, seed=6, **plan_keys), 1)[0]
    assert not same(epoch_batches(first, 0), epoch_batches(other_seed, 0))


def padded_fraction(batches: list[dict[str, torch.Tensor]]) -> float:
    return 1 - sum(int(b["num_tokens"]) for b in batches) / sum(b["input_ids"].numel() for b in batches)


def test_group_by_length_pads_less_than_plain_shuffle() -> None:
    data = token_rows(skewed_lengths(512))
    plain = loaders(data, BatchPlan(batch_size=8, sequence_len=128), 1)[0]
    grouped = loaders(data, BatchPlan(batch_size=8, sequence_len=128, group_by_length=True), 1)[0]
    plain_padding, grouped_padding = padded_fraction(list(plain)), padded_fraction(list(grouped))
    assert grouped_padding < plain_padding / 2
    assert token_counts(list(grouped)) == token_counts(list(plain))


def test_group_by_length_batches_are_sorted_runs() -> None:
    lengths = np.random.default_rng(0).integers(1, 100, size=35).tolist()
    loader = loaders(token_rows(lengths), BatchPlan(batch_size=4, sequence_len=128, group_by_length=True, seed=0), 1)
    for batch in loader[0]._global_batches(0):
        sizes = [lengths[b[0]] for b in batch]
        assert sizes == sorted(sizes, reverse=True)


def test_eval_order_is_sequential_on_every_rank() -> None:
    data = token_rows(skewed_lengths(21))
    plan = BatchPlan(batch_size=2, sequence_len=128, shuffle=False)
    rank0, rank1 = loaders(data, plan, world_size=2)
    for epoch in (0, 3):
        first = [b["input_ids"][:, 0].tolist() for b in epoch_batches(rank0, epoch)]
        second = [b["input_ids"][:, 0].tolist() for b in epoch_batches(rank1, epoch)]
        interleaved = [row for pair in zip(first, second) for batch in pair for row in batch if row != PAD]
        assert interleaved == list(range(1, 22))


def test_packed_eval_order_is_fixed() -> None:
    lengths = skewed_lengths(40)
    plan = BatchPlan(batch_size=2, sequence_len=128, packing=True, shuffle=False)
    loader = loaders(token_rows(lengths), plan, 1)[0]
    expected = pack_epoch(
        np.array(lengths), 128, seed=0, epoch=0, group_size=plan.group_size, max_per_bin=200, shuffle=False
    )
    assert loader.bins(0) == loader.bins(7) == expected


def test_packing_stats_of_the_loader() -> None:
    lengths = [60, 60, 60, 8]
    stats = loaders(token_rows(lengths), BatchPlan(batch_size=1, sequence_len=128, packing=True), 1)[0].packing_stats()
    assert (stats.bins, stats.tokens, stats.slots) == (2, 188, 256)
    unpacked = loaders(token_rows(lengths), BatchPlan(batch_size=1, sequence_len=128), 1)[0].packing_stats()
    assert (unpacked.bins, unpacked.slots) == (4, 512)


def row(ids: list[int], labels: list[int] | None = None) -> dict:
    return {"input_ids": ids, "labels": labels if labels is not None else list(ids)}


def test_packed_collator_layout() -> None:
    bins = [[row([11, 12, 13]), row([21, 22])], [row([31, 32, 33, 34], [-100, -100, 33, 34])]]
    out = PackedCollator(PAD, pad_to=8)(bins)
    assert out["input_ids"].tolist() == [[11, 12, 13, 21, 22, 0, 0, 0], [31, 32, 33, 34, 0, 0, 0, 0]]
    assert out["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0, 1, 2], [0, 1, 2, 3, 0, 1, 2, 3]]
    assert out["labels"].tolist() == [
        [-100, 12, 13, -100, 22, -100, -100, -100],
        [-100, -100, 33, 34, -100, -100, -100, -100],
    ]
    assert int(out["num_tokens"]) == 9
    assert "attention_mask" not in out


def test_packed_collator_pads_to_the_longest_bin_without_pad_to() -> None:
    out = PackedCollator(PAD)([[row([1, 2])], [row([3, 4, 5, 6])]])
    assert out["input_ids"].shape == (2, 4)
    assert out["position_ids"][0].tolist() == [0, 1, 0, 1]


def test_packed_collator_flatten_puts_all_rows_in_one_sequence() -> None:
    bins = [[row([11, 12, 13]), row([21, 22])], [row([31, 32, 33, 34])]]
    out = PackedCollator(PAD, pad_to=16, flatten=True)(bins)
    assert out["input_ids"].tolist() == [[11, 12, 13, 21, 22, 31, 32, 33, 34]]
    assert out["position_ids"].tolist() == [[0, 1, 2, 0, 1, 0, 1, 2, 3]]
    assert out["labels"].tolist() == [[-100, 12, 13, -100, 22, -100, 32, 33, 34]]
    assert int(out["num_tokens"]) == 9


@pytest.mark.parametrize("collate", [PackedCollator(PAD), PackedCollator(PAD, flatten=True), PadCollator(PAD)])
def test_collators_turn_nothing_into_one_untrained_token(collate) -> None:
    out = collate([])
    assert out["input_ids"].tolist() == [[PAD]]
    assert out["labels"].tolist() == [[IGNORE_INDEX]]
    assert int(out["num_tokens"]) == 0


def test_pad_collator() -> None:
    out = PadCollator(PAD)([row([1, 2, 3], [-100, 2, 3]), row([4])])
    assert out["input_ids"].tolist() == [[1, 2, 3], [4, 0, 0]]
    assert out["labels"].tolist() == [[-100, 2, 3], [4, -100, -100]]
    assert out["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert int(out["num_tokens"]) == 4
    assert PadCollator(PAD, pad_to=6)([row([1, 2])])["input_ids"].shape == (1, 6)


class FixedBatches:
    """Stands in for a loader whose epochs have the given batch counts (as packing gives)."""

    def __init__(self, counts: list[int]) -> None:
        self.counts = counts

    def batches_in_epoch(self, epoch: int) -> int:
        return self.counts[epoch]


@pytest.mark.parametrize(
    ("counts", "accumulation", "epochs", "expected"),
    [
        ([10, 7, 9], 4, 1, (3, 3)),
        ([10, 7, 9], 4, 2, (3, 5)),
        ([10, 7, 9], 4, 2.5, (3, 7)),  # 3 + 2 + half of 3 steps, rounded up
        ([10, 7, 9], 4, 0.25, (3, 1)),
        ([10, 7, 9], 1, 3, (10, 26)),
        ([10], 1, 0.5, (10, 5)),
        ([1], 8, 1, (1, 1)),
    ],
)
def test_steps_in_epochs(counts: list[int], accumulation: int, epochs: float, expected: tuple[int, int]) -> None:
    assert steps_in_epochs(FixedBatches(counts), accumulation, epochs) == expected  # type: ignore[arg-type]


def test_steps_in_epochs_of_a_real_loader() -> None:
    loader = loaders(token_rows([5] * 10), BatchPlan(batch_size=1, sequence_len=16), 1)[0]
    assert steps_in_epochs(loader, 4, 1.5) == (3, 5)


@pytest.mark.parametrize(("epochs", "total"), [(1.1, 11), (1.3, 13), (2.2, 22)])
def test_steps_in_epochs_is_exact_for_decimal_epochs(epochs: float, total: int) -> None:
    assert steps_in_epochs(FixedBatches([10, 10, 10]), 1, epochs) == (10, total)  # type: ignore[arg-type]
