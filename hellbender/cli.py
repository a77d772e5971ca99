"""Command line: parse arguments, load the config, call one function per command. No logic lives here.

Config keys can be overridden after the config path (`--learning_rate 1e-4`, `--lora-r=16`); user errors print as
one paragraph without a traceback (set HELLBENDER_DEBUG=1 to see it).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from hellbender.errors import HellbenderError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Fine-tune causal language models from one YAML file (Axolotl key names).",
)
err = Console(stderr=True, soft_wrap=True)
OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": True}
ConfigArg = Annotated[Path, typer.Argument(help="YAML config file; config keys may follow as --key value.")]


def user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print HellbenderErrors as a short paragraph and exit 1; the traceback only with HELLBENDER_DEBUG=1."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except HellbenderError as exc:
            if os.environ.get("HELLBENDER_DEBUG"):
                raise
            err.print("[bold red]error:[/bold red] ", end="")
            err.print(exc.message, highlight=False, markup=False)
            if exc.hint:
                err.print("[yellow]hint:[/yellow] ", end="")
                err.print(exc.hint, highlight=False, markup=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return run


def _config(path: Path, ctx: typer.Context):
    from hellbender.config import load_config

    return load_config(path, list(ctx.args))


@app.command(context_settings=OVERRIDES)
@user_errors
def validate(ctx: typer.Context, config: ConfigArg) -> None:
    """Check a config and print it fully resolved (defaults included)."""
    from hellbender.config import resolved_yaml

    print(resolved_yaml(_config(config, ctx)), end="")


@app.command(context_settings=OVERRIDES)
@user_errors
def preprocess(
    ctx: typer.Context,
    config: ConfigArg,
    debug: Annotated[bool, typer.Option("--debug", help="Show tokens of the first rows, trained ones marked.")] = False,
    debug_num_examples: Annotated[int, typer.Option("--debug-num-examples", help="Rows to show with --debug.")] = 3,
    stats_json: Annotated[Path | None, typer.Option("--stats-json", help="Also write the summary as JSON.")] = None,
) -> None:
    """Tokenize, mask and cache the datasets; show what will be trained and what was dropped, per dataset."""
    from hellbender.data.inspect import packing_summary, preprocess_stats, print_report, show_examples
    from hellbender.data.pipeline import prepare_data
    from hellbender.model.load import load_tokenizer

    cfg = _config(config, ctx)
    tokenizer = load_tokenizer(cfg)
    prepared = prepare_data(cfg, tokenizer)
    console = Console()
    if debug:
        show_examples(console, prepared, tokenizer, debug_num_examples)
    stats = preprocess_stats(prepared, cfg.sequence_len)
    if cfg.sample_packing:
        stats["packing"] = packing_summary(prepared.train, cfg)
    print_report(console, stats)
    if stats_json:
        stats_json.write_text(json.dumps(stats, indent=2))


@app.command(context_settings=OVERRIDES)
@user_errors
def train(ctx: typer.Context, config: ConfigArg) -> None:
    """Fine-tune (LoRA or full) as the config says; outputs go to output_dir."""
    from accelerate import PartialState

    from hellbender.train.loop import train as run_training

    cfg = _config(config, ctx)
    summary = run_training(cfg)
    if PartialState().is_main_process:
        err.print(f"done: {json.dumps(summary)}\nsaved to {cfg.output_dir}")


@app.command(context_settings=OVERRIDES)
@user_errors
def inference(
    ctx: typer.Context,
    config: ConfigArg,
    prompt: Annotated[str | None, typer.Option(help="One prompt; without it, chat on stdin.")] = None,
    system: Annotated[str | None, typer.Option(help="System message for the conversation.")] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens")] = 256,
    temperature: Annotated[float, typer.Option(help="0 = greedy decoding.")] = 0.0,
    base: Annotated[bool, typer.Option("--base", help="Use the base model without the trained weights.")] = False,
) -> None:
    """Chat with the fine-tuned model (adapter from output_dir or --lora_model_dir)."""
    from hellbender.infer.chat import run_inference

    run_inference(_config(config, ctx), prompt, max_new_tokens, temperature, system, base)


@app.command(context_settings=OVERRIDES)
@user_errors
def evaluate(
    ctx: typer.Context,
    config: ConfigArg,
    data: Annotated[
        Path, typer.Option(help="JSONL of held-out rows (messages ending with the reference reply, or alpaca rows).")
    ],
    predictions: Annotated[
        Path | None, typer.Option(help="Where to write predictions (default: output_dir/predictions[-base].jsonl).")
    ] = None,
    base: Annotated[bool, typer.Option("--base", help="Score the base model without the trained weights.")] = False,
    limit: Annotated[int | None, typer.Option(help="Score only the first N rows.")] = None,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens")] = 64,
) -> None:
    """Score generated replies against references (exact match, similarity) and keep the predictions."""
    from hellbender.evaluate.run import evaluate as run_evaluation
    from hellbender.evaluate.run import read_eval_items
    from hellbender.infer.generate import load_for_inference

    cfg = _config(config, ctx)
    items = read_eval_items(data, cfg.datasets[0].field_messages)[:limit]
    loaded = load_for_inference(cfg, base_only=base)
    path = predictions or Path(cfg.output_dir) / ("predictions-base.jsonl" if base else "predictions.jsonl")
    result = run_evaluation(cfg, loaded, items, path, max_new_tokens=max_new_tokens)
    result.pop("records")
    print(json.dumps({**result, "predictions": str(path)}))


@app.command("merge-lora", context_settings=OVERRIDES)
@user_errors
def merge_lora(
    ctx: typer.Context,
    config: ConfigArg,
    output: Annotated[str | None, typer.Option(help="Target folder (default: output_dir/merged).")] = None,
) -> None:
    """Merge the LoRA adapter into the base weights; writes a plain transformers model."""
    from hellbender.export.merge import merge_lora as run_merge

    target = run_merge(_config(config, ctx), output)
    err.print(f"merged model saved to {target}")


@app.command("config-docs")
def config_docs() -> None:
    """Print the reference of every config key (Markdown), generated from the schema."""
    from hellbender.config.docs import reference_markdown

    print(reference_markdown(), end="")


@app.command("default-model")
@user_errors
def default_model(
    force: Annotated[bool, typer.Option("--force", help="Convert again even if cached.")] = False,
) -> None:
    """Convert the bundled SmolLM2-135M-Instruct GGUF once into a cached HF folder and print its path."""
    from hellbender.model.default_model import BUNDLED_MODEL, ensure_default_model

    print(ensure_default_model(BUNDLED_MODEL, force=force))


def main() -> None:
    # peft still calls this deprecated transformers property on every forward; the notice is not actionable by users.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    app(prog_name="hellbender")


if __name__ == "__main__":
    sys.exit(main())
