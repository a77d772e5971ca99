"""What `preprocess` shows: each token with its id (trained ones visibly distinct, `--debug`), a per-dataset table of
what every step did, token-length histograms, and warnings worth acting on.

Everything printed is first collected in one `stats` dict (`preprocess_stats`), which `--stats-json` writes as is,
so scripts and people see the same numbers; later stages add their own section to it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import datasets
from rich.console import Console
from rich.table import Table
from rich.text import Text
from transformers import PreTrainedTokenizerBase

from hellbender.config import Config
from hellbender.data.loader import BatchPlan, packing_stats, row_lengths
from hellbender.data.pipeline import PreparedData
from hellbender.data.report import HISTOGRAM_BUCKETS, SourceReport
from hellbender.data.tokenize import IGNORE_INDEX

LEGEND = "legend: [trained token](id) in green brackets · untrained token(id) dimmed"
BAR_WIDTH = 30
BOUNDARY_WARN_SHARE = 0.01  # warn when this share of a dataset's trained tokens straddle a mask boundary


def render_row(input_ids: list[int], labels: list[int], tokenizer: PreTrainedTokenizerBase) -> Text:
    """One row as text: a trained token is `[token](id)` in green, an untrained one `token(id)` dimmed."""
    text = Text()
    for token_id, label in zip(input_ids, labels):
        piece = tokenizer.decode([token_id]).replace("\n", "\\n")
        if label != IGNORE_INDEX:
            text.append(f"[{piece}]({token_id})", style="bold green")
        else:
            text.append(f"{piece}({token_id})", style="dim")
        text.append(" ")
    return text


def show_examples(console: Console, prepared: PreparedData, tokenizer: PreTrainedTokenizerBase, count: int) -> None:
    console.print(LEGEND, markup=False, highlight=False)
    for index in range(min(count, len(prepared.train))):
        row = prepared.train[index]
        trained = sum(1 for label in row["labels"] if label != IGNORE_INDEX)
        console.rule(f"train row {index}: {len(row['input_ids'])} tokens, {trained} trained")
        console.print(render_row(row["input_ids"], row["labels"], tokenizer))


def boundary_warnings(reports: list[SourceReport]) -> list[str]:
    """The tokenizer merged characters across the prompt/answer edge: such a token is trained though part of it is
    prompt, and at inference the model sees the prompt end in a different token than in training."""
    warnings = []
    for r in reports:
        if r.boundary_tokens and r.boundary_tokens >= BOUNDARY_WARN_SHARE * max(r.trained_tokens, 1):
            warnings.append(
                f"{r.source}: {r.boundary_tokens} tokens straddle a trained/untrained boundary (the tokenizer merged "
                "the end of the prompt with the start of the answer into one token). They are trained, and the "
                "prompt tokenizes differently at inference. Fix: end the prompt with a separator the tokenizer "
                "keeps apart (a newline or the template's end-of-turn token), or start answers with a space/newline "
                "consistently."
            )
    return warnings


def preprocess_stats(prepared: PreparedData, sequence_len: int) -> dict[str, Any]:
    """Everything `preprocess` reports, JSON-ready."""
    step = sequence_len / HISTOGRAM_BUCKETS
    return {
        "fingerprint": prepared.fingerprint,
        "path": str(prepared.path),
        "reused": prepared.reused,
        "train_rows": len(prepared.train),
        "val_rows": len(prepared.val) if prepared.val is not None else 0,
        "sequence_len": sequence_len,
        "histogram_edges": [round(step * i) for i in range(HISTOGRAM_BUCKETS + 1)],
        "datasets": [
            {**asdict(r), "trained_fraction": r.trained_tokens / r.tokens if r.tokens else 0.0}
            for r in prepared.reports
        ],
        "warnings": boundary_warnings(prepared.reports),
    }


_TABLE_ROWS = {
    "kind": lambda d: d["kind"],
    "rows in": lambda d: d["rows_in"],
    "dropped: invalid": lambda d: d["dropped_invalid"],
    "dropped: too long": lambda d: d["dropped_too_long"],
    "truncated": lambda d: d["truncated"],
    "dropped: nothing trained": lambda d: d["dropped_nothing_trained"],
    "dropped: duplicate": lambda d: d["dropped_duplicate"],
    "rows out": lambda d: d["rows_out"],
    "sampling_ratio (rows +/-)": lambda d: f"{d['sampling_ratio']:g} ({d['sampled']:+d})",
    "→ train rows": lambda d: d["train_rows"],
    "→ eval rows": lambda d: d["eval_rows"],
    "tokens": lambda d: d["tokens"],
    "trained tokens": lambda d: d["trained_tokens"],
    "trained %": lambda d: f"{100 * d['trained_fraction']:.1f}",
    "longest row (tokens)": lambda d: d["longest"],
    "tokens across a mask boundary": lambda d: d["boundary_tokens"],
}


def summary_table(stats: dict[str, Any]) -> Table:
    """One column per dataset, one row per count (reads well in an 80-column terminal)."""
    state = "reused cache" if stats["reused"] else "built"
    table = Table(title=f"prepared data {stats['fingerprint']} ({state})")
    table.add_column("")
    for d in stats["datasets"]:
        table.add_column(d["source"], justify="right", overflow="fold")
    for name, value in _TABLE_ROWS.items():
        table.add_row(name, *(str(value(d)) for d in stats["datasets"]))
    return table


def histogram_lines(stats: dict[str, Any], dataset: dict[str, Any]) -> list[str]:
    """Token lengths of one dataset's kept rows as text bars, one per bucket of sequence_len / 8 tokens."""
    counts, edges = dataset["length_histogram"], stats["histogram_edges"]
    peak = max(counts, default=0) or 1
    lines = [f"token lengths, {dataset['source']} ({dataset['rows_out']} rows):"]
    for i, count in enumerate(counts):
        bar = "█" * round(BAR_WIDTH * count / peak) if count else ""
        lines.append(f"  {edges[i]:>6}-{edges[i + 1]:<6} {bar:<{BAR_WIDTH}} {count}")
    return lines


def packing_summary(train: datasets.Dataset, config: Config) -> dict[str, Any]:
    """Epoch 0's packing of the training rows, as the run will pack them (same seed and knobs)."""
    return asdict(packing_stats(row_lengths(train), BatchPlan.from_config(config), epoch=0))


def print_report(console: Console, stats: dict[str, Any]) -> None:
    """The table, the histograms, invalid-row reasons and warnings, then which cache was used."""
    console.print(summary_table(stats))
    for dataset in stats["datasets"]:
        console.print("\n".join(histogram_lines(stats, dataset)), markup=False, highlight=False)
        for reason in dataset["invalid_reasons"]:
            console.print(f"  skipped invalid row: {reason}", markup=False, highlight=False)
        if dataset["note"]:
            console.print(f"  note: {dataset['note']}", markup=False, highlight=False)
    for warning in stats["warnings"]:
        console.print(Text("warning: ", style="yellow") + Text(warning), highlight=False)
    if "packing" in stats:
        packed = stats["packing"]
        console.print(
            f"packing (epoch 0): {packed['rows']} rows into {packed['bins']} bins of {stats['sequence_len']} tokens, "
            f"{packed['mean_rows_per_bin']} rows per bin, efficiency {packed['efficiency']:.2%}, "
            f"padding {packed['padding_fraction']:.2%}",
            markup=False,
            highlight=False,
        )
    state = "reused cache" if stats["reused"] else "built"
    console.print(
        f"{state} {stats['path']}: {stats['train_rows']} train rows, {stats['val_rows']} validation rows",
        markup=False,
        highlight=False,
    )
