"""Wires the data stages: source rows → format → tokenize + mask → length/empty filtering → val split → cache.

The prepared dataset (columns `input_ids`, `labels`) is saved under `dataset_prepared_path/<fingerprint>/` with a
report of how many rows each step removed; a later run with the same inputs loads it instead of rebuilding.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from filelock import FileLock
from transformers import PreTrainedTokenizerBase

from hellbender.config import Config, DatasetConfig
from hellbender.data.cache import data_fingerprint
from hellbender.data.chat_templates import resolve_chat_template
from hellbender.data.formats import get_format
from hellbender.data.formats.base import FormatContext
from hellbender.data.sources import load_source
from hellbender.data.tokenize import IGNORE_INDEX, tokenize_batch
from hellbender.errors import DataError


@dataclass
class SourceReport:
    """Row and token counts of one `datasets:` entry, step by step."""

    source: str
    rows_in: int = 0
    dropped_too_long: int = 0
    truncated: int = 0
    dropped_nothing_trained: int = 0
    rows_out: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    boundary_tokens: int = 0
    longest: int = 0


@dataclass
class PreparedData:
    train: datasets.Dataset
    val: datasets.Dataset | None
    fingerprint: str
    path: Path
    reused: bool
    reports: list[SourceReport] = field(default_factory=list)


def bos_text(tokenizer: PreTrainedTokenizerBase) -> str:
    """The bos token's text if the tokenizer adds one by default (formats then write it once themselves)."""
    if tokenizer.bos_token is None:
        return ""
    ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    return tokenizer.bos_token if ids and ids[0] == tokenizer.bos_token_id else ""


def _tokenize_source(
    ds: DatasetConfig, config: Config, tokenizer: PreTrainedTokenizerBase, fingerprint: str, position: int
) -> tuple[datasets.Dataset, SourceReport]:
    raw = load_source(ds)
    ctx = FormatContext(
        tokenizer=tokenizer,
        dataset=ds,
        train_on_inputs=config.train_on_inputs,
        chat_template=resolve_chat_template(
            ds.chat_template or config.chat_template, ds.chat_template_jinja or config.chat_template_jinja, tokenizer
        )
        if ds.type == "chat_template"
        else None,
        bos_text=bos_text(tokenizer),
        default_system_message=config.default_system_message,
    )
    format_row = get_format(ds.format_name)

    def encode(batch: dict[str, list[Any]], indices: list[int]) -> dict[str, list[Any]]:
        rows = [dict(zip(batch, values)) for values in zip(*batch.values())]
        encoded = tokenize_batch([format_row(row, i, ctx) for row, i in zip(rows, indices)], tokenizer)
        return {
            "input_ids": [r.input_ids for r in encoded],
            "labels": [r.labels for r in encoded],
            "boundary_tokens": [r.boundary_tokens for r in encoded],
            "length": [len(r.input_ids) for r in encoded],
            # counted within sequence_len, so it is also right for rows that `truncate` will cut
            "trained_in_limit": [
                sum(1 for label in r.labels[: config.sequence_len] if label != IGNORE_INDEX) for r in encoded
            ],
        }

    tokenized = raw.map(
        encode,
        batched=True,
        with_indices=True,
        remove_columns=raw.column_names,
        new_fingerprint=f"{fingerprint}-{position}",
        desc=f"tokenizing {ds.path}",
    )
    return _clean(tokenized, config, SourceReport(source=ds.path, rows_in=len(raw)))


def _clean(tokenized: datasets.Dataset, config: Config, report: SourceReport) -> tuple[datasets.Dataset, SourceReport]:
    """Apply `excess_length_strategy` and drop rows with nothing to train, counting each removal.

    Works on the small per-row count columns `encode` wrote, never re-reading the token lists.
    """
    limit = config.sequence_len
    lengths = np.asarray(tokenized["length"], dtype=np.int64)
    too_long = lengths > limit
    if config.excess_length_strategy == "truncate":
        report.truncated = int(too_long.sum())
        if report.truncated:
            tokenized = tokenized.map(
                lambda row: {"input_ids": row["input_ids"][:limit], "labels": row["labels"][:limit]}
            )
        keep = np.ones(len(tokenized), dtype=bool)
    else:
        report.dropped_too_long = int(too_long.sum())
        keep = ~too_long
    trained_counts = np.asarray(tokenized["trained_in_limit"], dtype=np.int64)
    nothing = (trained_counts == 0) & keep
    report.dropped_nothing_trained = int(nothing.sum())
    keep &= ~nothing
    kept = tokenized.select(np.flatnonzero(keep)).remove_columns(["boundary_tokens", "length", "trained_in_limit"])
    kept_lengths = np.minimum(lengths, limit)[keep]
    report.rows_out = len(kept)
    report.tokens = int(kept_lengths.sum())
    report.trained_tokens = int(trained_counts[keep].sum())
    report.boundary_tokens = int(np.array(tokenized["boundary_tokens"], dtype=np.int64)[keep].sum())
    report.longest = int(kept_lengths.max()) if len(kept_lengths) else 0
    return kept, report


def _split(data: datasets.Dataset, config: Config) -> tuple[datasets.Dataset, datasets.Dataset | None]:
    size = config.val_set_size
    if not size:
        return data, None
    test_size = int(size) if size >= 1 else size
    rows = test_size if isinstance(test_size, int) else math.ceil(test_size * len(data))  # as datasets rounds
    if rows >= len(data) or len(data) < 2:
        raise DataError(
            f"val_set_size={size} asks for {rows} validation rows out of {len(data)} prepared rows, "
            "leaving none to train on.",
            hint="lower val_set_size, add data, or set val_set_size: 0.",
        )
    parts = data.train_test_split(test_size=test_size, seed=config.seed, shuffle=True)
    return parts["train"], parts["test"]


def prepare_data(config: Config, tokenizer: PreTrainedTokenizerBase) -> PreparedData:
    """Return the prepared train/val datasets, from the cache when the fingerprint matches."""
    datasets.disable_progress_bars()  # our summary table reports the counts; per-stage bars are noise
    chat_template = (
        resolve_chat_template(config.chat_template, config.chat_template_jinja, tokenizer)
        if any(ds.type == "chat_template" for ds in config.datasets)
        else None
    )
    fingerprint = data_fingerprint(config, tokenizer, chat_template)
    root = Path(config.dataset_prepared_path)
    path = root / fingerprint
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / f"{fingerprint}.lock")):  # one process builds, the others wait and reuse
        if (path / "report.json").is_file():
            return _load_prepared(path, fingerprint)
        return _build(config, tokenizer, fingerprint, path)


def _build(config: Config, tokenizer: PreTrainedTokenizerBase, fingerprint: str, path: Path) -> PreparedData:
    parts, reports = [], []
    for position, ds in enumerate(config.datasets):
        data, report = _tokenize_source(ds, config, tokenizer, fingerprint, position)
        parts.append(data)
        reports.append(report)
    merged = datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]
    if len(merged) == 0:
        raise DataError(
            "no rows left to train on after preprocessing: "
            + "; ".join(
                f"{r.source}: {r.rows_in} in, {r.dropped_too_long} too long, "
                f"{r.dropped_nothing_trained} with nothing to train"
                for r in reports
            ),
            hint="check sequence_len, excess_length_strategy and the dataset format.",
        )
    train, val = _split(merged, config)
    building = path.with_name(f".{path.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    train.save_to_disk(str(building / "train"))
    if val is not None:
        val.save_to_disk(str(building / "val"))
    (building / "report.json").write_text(json.dumps([asdict(r) for r in reports], indent=2))
    building.rename(path)  # atomic: a half-written cache is never taken for a finished one
    prepared = _load_prepared(path, fingerprint)
    prepared.reused = False
    return prepared


def _load_prepared(path: Path, fingerprint: str) -> PreparedData:
    reports = [SourceReport(**r) for r in json.loads((path / "report.json").read_text())]
    val = datasets.load_from_disk(str(path / "val")) if (path / "val").is_dir() else None
    return PreparedData(
        train=datasets.load_from_disk(str(path / "train")),
        val=val,
        fingerprint=fingerprint,
        path=path,
        reused=True,
        reports=reports,
    )
