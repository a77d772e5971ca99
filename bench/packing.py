"""Packing efficiency and time: our best-fit-decreasing packer against pad-to-longest batching and TRL.

Row lengths are generated, not tokenized: a seeded lognormal that resembles tokenized Alpaca-style rows (prompt plus
response, median 180 tokens, sigma 0.8, so the mean is about 250 and one row in a hundred is over ~1,100 tokens),
rounded and clipped to [8, sequence_len]. The parameters are written into the JSON, so a figure can be reproduced.

For each sequence_len (2048 and 4096 by default) it measures, in one run:

- ours: `pack_epoch` (seeded shuffle, groups, best-fit-decreasing, shuffled bins) as the trainer calls it, its
  `PackingStats` efficiency (tokens / bins * sequence_len), and the efficiency when batches of `--micro-batch-size`
  bins are padded to their longest bin (what `PackedCollator` does without `pad_to`) instead of to sequence_len;
- naive: random batches of `--micro-batch-size` rows, each padded to its longest row (no packing);
- trl: `trl.pack_dataset(strategy="bfd")` on a `datasets.Dataset` with an `input_ids` column of those lengths,
  called as TRL's SFTTrainer calls it (default map batch of 1,000 rows); efficiency is tokens / (rows *
  seq_length) of its output. TRL is optional and only used here; without it the entry says why it was skipped.

Times are wall-clock seconds of one run of the packing (or batching) alone, not of building the inputs.

    python bench/packing.py [--rows 50000] [--seed 0] [--micro-batch-size 8] [--out packing.json]

The JSON goes to stdout (or `--out`); a short summary goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from typing import Any

import numpy as np

from hellbender.data.loader import row_lengths
from hellbender.data.packing import PackingStats, pack_epoch

MEDIAN_TOKENS = 180
SIGMA = 0.8
MIN_TOKENS = 8
# The trainer's defaults (BatchPlan): rows per packing group and rows per bin.
GROUP_SIZE = 100_000
MAX_PER_BIN = 200


def alpaca_like_lengths(rows: int, sequence_len: int, seed: int) -> np.ndarray:
    """Lognormal token counts (median MEDIAN_TOKENS, sigma SIGMA) clipped to [MIN_TOKENS, sequence_len]."""
    rng = np.random.default_rng(seed)
    raw = rng.lognormal(mean=math.log(MEDIAN_TOKENS), sigma=SIGMA, size=rows)
    return np.clip(np.rint(raw), MIN_TOKENS, sequence_len).astype(np.int64)


def padded_efficiency(sizes: np.ndarray, batch_size: int) -> float:
    """Real tokens / token positions when consecutive `batch_size` items form a batch padded to its longest item."""
    batches = math.ceil(len(sizes) / batch_size)
    padded = np.zeros(batches * batch_size, dtype=np.int64)
    padded[: len(sizes)] = sizes
    longest = padded.reshape(batches, batch_size).max(axis=1)
    counts = np.full(batches, batch_size)
    counts[-1] = len(sizes) - (batches - 1) * batch_size
    return float(sizes.sum() / (longest * counts).sum())


def bench_ours(lengths: np.ndarray, sequence_len: int, seed: int, batch_size: int) -> dict[str, Any]:
    start = time.perf_counter()
    bins = pack_epoch(
        lengths, sequence_len, seed=seed, epoch=0, group_size=GROUP_SIZE, max_per_bin=MAX_PER_BIN, shuffle=True
    )
    seconds = time.perf_counter() - start
    stats = PackingStats.of(bins, lengths, sequence_len)
    bin_tokens = np.array([int(lengths[b].sum()) for b in bins], dtype=np.int64)
    to_longest = padded_efficiency(bin_tokens, batch_size)
    return {
        "efficiency": stats.efficiency,
        "seconds": round(seconds, 3),
        "bins": stats.bins,
        "mean_rows_per_bin": stats.mean_rows_per_bin,
        "padding_fraction_pad_to_sequence_len": stats.padding_fraction,
        "padding_fraction_pad_to_longest_bin": round(1 - to_longest, 4),
        "group_size": GROUP_SIZE,
        "max_per_bin": MAX_PER_BIN,
    }


def bench_naive(lengths: np.ndarray, seed: int, batch_size: int) -> dict[str, Any]:
    start = time.perf_counter()
    order = np.random.default_rng(seed).permutation(len(lengths))
    efficiency = padded_efficiency(lengths[order], batch_size)
    seconds = time.perf_counter() - start
    return {
        "efficiency": round(efficiency, 4),
        "seconds": round(seconds, 3),
        "batches": math.ceil(len(lengths) / batch_size),
        "batch_size": batch_size,
    }


def _token_dataset(lengths: np.ndarray) -> Any:
    """A `datasets.Dataset` whose `input_ids` rows have `lengths` tokens, built from Arrow offsets (no Python lists)."""
    import datasets
    import pyarrow as pa

    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    values = pa.array(np.arange(int(lengths.sum()), dtype=np.int64) % 32_000)
    column = pa.ListArray.from_arrays(pa.array(offsets), values)
    return datasets.Dataset(pa.table({"input_ids": column}))


def bench_trl(lengths: np.ndarray, sequence_len: int) -> dict[str, Any]:
    try:
        import datasets
        import trl
        from trl import pack_dataset
    except ImportError as error:
        return {"skipped": f"TRL is not importable ({error}); `pip install trl` to compare"}
    datasets.disable_progress_bars()
    data = _token_dataset(lengths)
    start = time.perf_counter()
    packed = pack_dataset(data, seq_length=sequence_len, strategy="bfd")
    seconds = time.perf_counter() - start
    tokens = int(row_lengths(packed).sum())
    return {
        "efficiency": round(tokens / (len(packed) * sequence_len), 4),
        "seconds": round(seconds, 3),
        "bins": len(packed),
        "tokens_kept": tokens,
        "version": trl.__version__,
        "strategy": "bfd",
        "map_kwargs": {},
    }


def run(rows: int, seed: int, sequence_lens: list[int], batch_size: int) -> dict[str, Any]:
    results = []
    for sequence_len in sequence_lens:
        lengths = alpaca_like_lengths(rows, sequence_len, seed)
        results.append(
            {
                "sequence_len": sequence_len,
                "tokens": int(lengths.sum()),
                "mean_length": round(float(lengths.mean()), 1),
                "p99_length": int(np.percentile(lengths, 99)),
                "clipped_rows": int((lengths == sequence_len).sum()),
                "ours": bench_ours(lengths, sequence_len, seed, batch_size),
                "naive_pad_to_longest": bench_naive(lengths, seed, batch_size),
                "trl_pack_dataset": bench_trl(lengths, sequence_len),
            }
        )
    return {
        "distribution": {
            "kind": "lognormal, rounded, clipped to [min_tokens, sequence_len]",
            "median_tokens": MEDIAN_TOKENS,
            "sigma": SIGMA,
            "min_tokens": MIN_TOKENS,
            "rows": rows,
            "seed": seed,
        },
        "micro_batch_size": batch_size,
        "python": platform.python_version(),
        "results": results,
    }


def _summary(report: dict[str, Any]) -> str:
    lines = [f"rows={report['distribution']['rows']} seed={report['distribution']['seed']}"]
    for result in report["results"]:
        parts = []
        for name in ("ours", "naive_pad_to_longest", "trl_pack_dataset"):
            entry = result[name]
            parts.append(
                f"{name} skipped" if "skipped" in entry else f"{name} {entry['efficiency']:.4f} ({entry['seconds']}s)"
            )
        lines.append(f"sequence_len={result['sequence_len']}: " + ", ".join(parts))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sequence-len", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--micro-batch-size", type=int, default=8)
    parser.add_argument("--out", help="write the JSON here instead of stdout")
    args = parser.parse_args(argv)
    report = run(args.rows, args.seed, args.sequence_len, args.micro_batch_size)
    text = json.dumps(report, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as file:
            file.write(text + "\n")
    else:
        print(text)
    print(_summary(report), file=sys.stderr)


if __name__ == "__main__":
    main()
