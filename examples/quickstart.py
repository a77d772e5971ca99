"""Before/after demo behind `make quickstart`: score the base model on held-out rows, fine-tune, score again.

Each step is a plain `hellbender` command (printed before it runs), so the same steps work by hand.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

console = Console()


def hellbender(*args: str) -> str:
    command = [sys.executable, "-m", "hellbender", *args]
    console.print(f"[bold]$ hellbender {shlex.join(args)}[/bold]")
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(result.returncode)
    console.print(f"[dim]({time.perf_counter() - started:.0f} s)[/dim]")
    return result.stdout


def evaluate(config: str, data: str, base: bool) -> dict:
    args = ["evaluate", config, "--data", data, "--max-new-tokens", "16"] + (["--base"] if base else [])
    return json.loads(hellbender(*args).strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="examples/quickstart.yml")
    parser.add_argument("--test-data", default="examples/data/dates_test.jsonl")
    parser.add_argument("--samples", type=int, default=6, help="side-by-side rows to show")
    args = parser.parse_args()

    before = evaluate(args.config, args.test_data, base=True)
    hellbender("train", args.config)
    after = evaluate(args.config, args.test_data, base=False)

    read = lambda path: [json.loads(line) for line in Path(path).read_text().splitlines()]  # noqa: E731
    rows = list(zip(read(before["predictions"]), read(after["predictions"])))
    table = Table(title=f"held-out rows ({len(rows)}): base vs fine-tuned")
    for column in ("prompt", "reference", "before", "after"):
        table.add_column(column, overflow="fold")
    for old, new in rows[: args.samples]:
        mark = lambda r: ("[green]" if r["exact_match"] else "[red]") + r["prediction"]  # noqa: E731
        table.add_row(old["prompt"], old["reference"], mark(old), mark(new))
    console.print(table)
    output_dir = yaml.safe_load(Path(args.config).read_text())["output_dir"]
    console.print(
        f"exact match: before {before['exact_match']:.1%} → after {after['exact_match']:.1%}   "
        f"similarity: before {before['similarity']:.3f} → after {after['similarity']:.3f}"
    )
    console.print(f"predictions: {before['predictions']} and {after['predictions']}; model and metrics in {output_dir}")
    if after["exact_match"] <= before["exact_match"]:
        console.print("[bold red]the fine-tuned model did not beat the base model[/bold red]")
        sys.exit(1)
    console.print(
        f"try it: hellbender inference {args.config} --prompt 'Convert to ISO date (YYYY-MM-DD): 4th of July 1999'"
    )


if __name__ == "__main__":
    main()
