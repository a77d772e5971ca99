"""What `preprocess --debug` shows: each token with its id, trained tokens visibly distinct, and a per-dataset
summary of how many rows every cleaning step removed."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text
from transformers import PreTrainedTokenizerBase

from hellbender.data.pipeline import PreparedData
from hellbender.data.tokenize import IGNORE_INDEX

LEGEND = "legend: [trained token](id) in green brackets · untrained token(id) dimmed"


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


def summary_table(prepared: PreparedData) -> Table:
    """One column per dataset, one row per count (reads well in an 80-column terminal)."""
    table = Table(title=f"prepared data {prepared.fingerprint} ({'reused cache' if prepared.reused else 'built'})")
    table.add_column("")
    for r in prepared.reports:
        table.add_column(r.source, justify="right", overflow="fold")
    rows = {
        "rows in": lambda r: r.rows_in,
        "dropped: too long": lambda r: r.dropped_too_long,
        "truncated": lambda r: r.truncated,
        "dropped: nothing trained": lambda r: r.dropped_nothing_trained,
        "rows out": lambda r: r.rows_out,
        "tokens": lambda r: r.tokens,
        "trained tokens": lambda r: r.trained_tokens,
        "trained %": lambda r: f"{100 * r.trained_tokens / r.tokens:.1f}" if r.tokens else "-",
        "longest row (tokens)": lambda r: r.longest,
        "tokens across a mask boundary": lambda r: r.boundary_tokens,
    }
    for name, value in rows.items():
        table.add_row(name, *(str(value(r)) for r in prepared.reports))
    return table
