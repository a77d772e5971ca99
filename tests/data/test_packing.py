"""Best-fit-decreasing and per-epoch packing, checked against invariants and an independent first-fit-decreasing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hellbender.data.packing import PackingStats, best_fit_decreasing, pack_epoch


def first_fit_decreasing(lengths: list[int], capacity: int) -> int:
    """Bin count of first-fit-decreasing: each item into the first bin with room."""
    rooms: list[int] = []
    for size in sorted(lengths, reverse=True):
        for i, room in enumerate(rooms):
            if size <= room:
                rooms[i] -= size
                break
        else:
            rooms.append(capacity - size)
    return len(rooms)


def naive_best_fit_rooms(lengths: list[int], capacity: int) -> list[int]:
    """Rooms left by best-fit-decreasing, by a linear scan. Which of several equally tight bins takes an item does
    not change the rooms, so these are the same for any correct implementation."""
    rooms: list[int] = []
    for size in sorted(lengths, reverse=True):
        fits = [i for i, room in enumerate(rooms) if room >= size]
        if fits:
            rooms[min(fits, key=rooms.__getitem__)] -= size
        else:
            rooms.append(capacity - size)
    return sorted(rooms)


def random_lengths(seed: int, count: int, capacity: int) -> list[int]:
    return np.random.default_rng(seed).integers(1, capacity + 1, size=count).tolist()


def assert_valid(bins: list[list[int]], lengths: list[int], capacity: int) -> None:
    assert sorted(i for b in bins for i in b) == list(range(len(lengths)))
    assert all(b for b in bins)
    assert all(sum(lengths[i] for i in b) <= capacity for b in bins)


def test_docstring_example() -> None:
    assert best_fit_decreasing([5, 3, 4, 2, 6], capacity=10) == [[4, 2], [0, 1, 3]]


@pytest.mark.parametrize("seed", range(20))
def test_bfd_fits_keeps_every_item_and_beats_ffd(seed: int) -> None:
    # Best fit is not at most first fit on every instance (with capacity 47, the 36 lengths in
    # [6, 25, 29, 43, 20, 47, 27, 18, 46, 19, 8, 7, 40, 6, 7, 36, 45, 27, 3, 39, 12, 5, 17, 11, 32, 31, 9, 3, 44, 36,
    # 18, 19, 16, 34, 9, 41] take 19 bins against 18), but it is on these seeded instances, and far more often better.
    rng = np.random.default_rng(seed)
    capacity = int(rng.integers(8, 200))
    lengths = random_lengths(seed, int(rng.integers(1, 300)), capacity)
    bins = best_fit_decreasing(lengths, capacity)
    assert_valid(bins, lengths, capacity)
    assert math.ceil(sum(lengths) / capacity) <= len(bins) <= first_fit_decreasing(lengths, capacity)


@pytest.mark.parametrize("seed", range(20))
def test_bfd_matches_a_naive_best_fit(seed: int) -> None:
    lengths = random_lengths(100 + seed, 200, capacity=50)
    bins = best_fit_decreasing(lengths, 50)
    assert sorted(50 - sum(lengths[i] for i in b) for b in bins) == naive_best_fit_rooms(lengths, 50)


def test_bfd_picks_the_tightest_bin() -> None:
    # After 6 and 5 open bins with room 4 and 5, a 4 goes with the 6 (tightest), leaving room 5 for the final 5.
    assert best_fit_decreasing([6, 5, 4, 5], capacity=10) == [[0, 2], [1, 3]]


def test_bfd_many_small_items_fill_bins_exactly() -> None:
    bins = best_fit_decreasing([1] * 100, capacity=10)
    assert len(bins) == 10 and all(len(b) == 10 for b in bins)


@pytest.mark.parametrize("max_per_bin", [1, 2, 3, 7])
def test_bfd_respects_max_per_bin(max_per_bin: int) -> None:
    lengths = [1] * 50 + [3] * 10
    bins = best_fit_decreasing(lengths, capacity=100, max_per_bin=max_per_bin)
    assert_valid(bins, lengths, 100)
    assert max(len(b) for b in bins) <= max_per_bin
    assert len(bins) == math.ceil(len(lengths) / max_per_bin)


def test_bfd_full_length_items_get_their_own_bins() -> None:
    assert best_fit_decreasing([10, 10, 3], capacity=10) == [[0], [1], [2]]


@pytest.mark.parametrize("lengths", [[3, 0], [3, 11], [-1], [5, 20, 1]])
def test_bfd_rejects_out_of_range_lengths(lengths: list[int]) -> None:
    with pytest.raises(ValueError, match="outside 1..10"):
        best_fit_decreasing(lengths, capacity=10)


def test_bfd_empty() -> None:
    assert best_fit_decreasing([], capacity=10) == []


def epoch_bins(lengths: np.ndarray, **keys) -> list[list[int]]:
    defaults = {"seed": 3, "epoch": 0, "group_size": 1000, "max_per_bin": 200}
    return pack_epoch(lengths, 64, **{**defaults, **keys})


@pytest.fixture
def lengths() -> np.ndarray:
    return np.random.default_rng(7).integers(1, 40, size=300)


def test_pack_epoch_is_valid(lengths: np.ndarray) -> None:
    assert_valid(epoch_bins(lengths), lengths.tolist(), 64)


def test_pack_epoch_is_deterministic_per_seed_and_epoch(lengths: np.ndarray) -> None:
    assert epoch_bins(lengths) == epoch_bins(lengths)
    assert epoch_bins(lengths, epoch=1) != epoch_bins(lengths)
    assert epoch_bins(lengths, seed=4) != epoch_bins(lengths)
    assert sorted(map(sorted, epoch_bins(lengths, epoch=1))) != sorted(map(sorted, epoch_bins(lengths)))


def test_pack_epoch_groups_of_one_give_one_row_per_bin(lengths: np.ndarray) -> None:
    bins = epoch_bins(lengths, group_size=1)
    assert all(len(b) == 1 for b in bins)
    assert sorted(b[0] for b in bins) == list(range(len(lengths)))


def test_pack_epoch_bins_never_mix_groups(lengths: np.ndarray) -> None:
    group_size = 50
    # pack_epoch's own rng usage: the row permutation is the first draw of default_rng([seed, epoch]).
    rows = np.random.default_rng([3, 0]).permutation(len(lengths))
    group_of = np.empty(len(lengths), dtype=np.int64)
    group_of[rows] = np.arange(len(lengths)) // group_size
    bins = epoch_bins(lengths, group_size=group_size)
    assert_valid(bins, lengths.tolist(), 64)
    assert all(len({int(group_of[i]) for i in b}) == 1 for b in bins)
    per_group = [best_fit_decreasing(lengths[rows[s : s + group_size]], 64, 200) for s in range(0, 300, group_size)]
    assert len(bins) == sum(len(g) for g in per_group)


def test_pack_epoch_without_shuffle_packs_in_order(lengths: np.ndarray) -> None:
    bins = epoch_bins(lengths, shuffle=False, group_size=100)
    expected = [
        [start + i for i in b]
        for start in range(0, 300, 100)
        for b in best_fit_decreasing(lengths[start : start + 100], 64, 200)
    ]
    assert bins == expected
    assert epoch_bins(lengths, shuffle=False, group_size=100, epoch=5) == bins


def test_packing_stats_hand_example() -> None:
    lengths = np.array([6, 4, 3, 5, 2])
    stats = PackingStats.of([[0, 1], [3, 2, 4]], lengths, capacity=12)
    assert stats == PackingStats(
        rows=5,
        bins=2,
        tokens=20,
        slots=24,
        efficiency=round(20 / 24, 4),
        padding_fraction=round(4 / 24, 4),
        mean_rows_per_bin=2.5,
    )


def test_packing_stats_of_nothing() -> None:
    stats = PackingStats.of([], np.array([], dtype=np.int64), capacity=8)
    assert (stats.bins, stats.efficiency, stats.padding_fraction, stats.mean_rows_per_bin) == (0, 0.0, 0.0, 0.0)
