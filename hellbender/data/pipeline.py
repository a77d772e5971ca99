"""Wires the data stages: source rows → format → tokenize + mask → clean (invalid, length, nothing trained,
duplicates) → route to train/eval → `val_set_size` hold-out → `sampling_ratio` → cache.

The prepared dataset (columns `input_ids`, `labels`) is saved under `dataset_prepared_path/<fingerprint>/` with a
report of what each step did to each dataset entry; a later run with the same inputs loads it instead of rebuilding.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import datasets
import numpy as np
from filelock import FileLock
from transformers import PreTrainedTokenizerBase

from hellbender.config import Config, DatasetConfig
from hellbender.data import clean
from hellbender.data.cache import data_fingerprint
from hellbender.data.chat_templates import resolve_chat_template
from hellbender.data.encode import make_encoder
from hellbender.data.formats import get_format
from hellbender.data.formats.base import FormatContext
from hellbender.data.mix import hold_out, sample_indices
from hellbender.data.report import SourceReport
from hellbender.data.sources import InvalidRows, is_hub_dataset, load_source
from hellbender.errors import DataError

__all__ = ["PreparedData", "SourceReport", "bos_text", "prepare_data"]
PARALLEL_FROM_ROWS = 10_000  # below this, starting worker processes costs more than it saves


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


def processes(config: Config, rows: int) -> int | None:
    """`dataset_processes`, or one per core (at most 8) when the entry is big enough to gain from it."""
    if config.dataset_processes:
        return config.dataset_processes if config.dataset_processes > 1 else None
    cores = min(8, os.cpu_count() or 1)
    return cores if rows > PARALLEL_FROM_ROWS and cores > 1 else None


def _format_context(ds: DatasetConfig, config: Config, tokenizer: PreTrainedTokenizerBase) -> FormatContext:
    template = None
    if ds.type == "chat_template":
        template = resolve_chat_template(
            ds.chat_template or config.chat_template, ds.chat_template_jinja or config.chat_template_jinja, tokenizer
        )
    return FormatContext(
        tokenizer=tokenizer,
        dataset=ds,
        train_on_inputs=config.train_on_inputs,
        chat_template=template,
        bos_text=bos_text(tokenizer),
        default_system_message=config.default_system_message,
    )


def _tokenize_source(
    ds: DatasetConfig, kind: str, config: Config, tokenizer: PreTrainedTokenizerBase, cache_key: str
) -> clean.Tokenized:
    """Load, format, tokenize and clean one entry (duplicates are removed later, across all entries)."""
    invalid = InvalidRows(drop=config.invalid_rows == "drop")
    raw = load_source(ds, invalid)
    report = SourceReport(source=ds.path, kind=kind, rows_in=len(raw) + invalid.count, sampling_ratio=ds.sampling_ratio)
    if is_hub_dataset(ds) and not ds.revision:
        report.note = (
            "hub dataset without `revision`: offline, the cache is keyed by its id only; set revision to pin it"
        )
    encode = make_encoder(
        get_format(ds.format_name),
        _format_context(ds, config, tokenizer),
        tokenizer,
        config.sequence_len,
        all_eval=kind == "test",
    )
    tokenized = raw.map(
        encode,
        batched=True,
        with_indices=True,
        remove_columns=raw.column_names,
        num_proc=processes(config, len(raw)),
        new_fingerprint=cache_key,
        desc=f"tokenizing {ds.path}",
    )
    part = clean.Tokenized(
        tokenized, report, np.ones(len(tokenized), dtype=bool), np.asarray(tokenized["to_eval"], dtype=bool)
    )
    clean.drop_invalid(part, invalid)
    clean.drop_by_length(part, config.sequence_len, config.excess_length_strategy)
    return part


def prepare_data(config: Config, tokenizer: PreTrainedTokenizerBase) -> PreparedData:
    """Return the prepared train/val datasets, from the cache when the fingerprint matches."""
    datasets.disable_progress_bars()  # our summary table reports the counts; per-stage bars are noise
    entries = [*config.datasets, *(config.test_datasets or [])]
    chat_template = (
        resolve_chat_template(config.chat_template, config.chat_template_jinja, tokenizer)
        if any(ds.type == "chat_template" for ds in entries)
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
    kinds = [("train", ds) for ds in config.datasets] + [("test", ds) for ds in config.test_datasets or []]
    parts = [
        _tokenize_source(ds, kind, config, tokenizer, f"{fingerprint}-{position}")
        for position, (kind, ds) in enumerate(kinds)
    ]
    if config.dataset_exact_deduplication:
        clean.deduplicate(parts)
    for part in parts:
        clean.record_token_stats(part, config.sequence_len)
    train, val = _assemble(parts, config)
    building = path.with_name(f".{path.name}.building")
    shutil.rmtree(building, ignore_errors=True)
    train.save_to_disk(str(building / "train"))
    if val is not None:
        val.save_to_disk(str(building / "val"))
    (building / "report.json").write_text(json.dumps([asdict(p.report) for p in parts], indent=2))
    building.rename(path)  # atomic: a half-written cache is never taken for a finished one
    prepared = _load_prepared(path, fingerprint)
    prepared.reused = False
    return prepared


def _assemble(parts: list[clean.Tokenized], config: Config) -> tuple[datasets.Dataset, datasets.Dataset | None]:
    """Route kept rows to train/eval, hold out `val_set_size`, apply `sampling_ratio`; counts go to the reports."""
    train = [np.flatnonzero(p.keep & ~p.to_eval) for p in parts]
    held = [np.flatnonzero(p.keep & p.to_eval) for p in parts]
    if not sum(len(rows) for rows in train):
        raise DataError(
            "no rows left to train on after preprocessing: "
            + "; ".join(
                f"{p.report.source}: {p.report.rows_in} in, "
                + ", ".join(f"{count} {why}" for why, count in p.report.drop_reasons().items())
                + f", {int((p.keep & p.to_eval).sum())} routed to evaluation"
                for p in parts
            ),
            hint="check sequence_len, excess_length_strategy, the dataset format and the rows' `split` values "
            "(`preprocess` with invalid_rows: drop shows the first reasons).",
        )
    if config.val_set_size:
        train, extra = hold_out(train, config.val_set_size, config.seed)
        held = [np.concatenate([a, b]) for a, b in zip(held, extra)]
    for position, part in enumerate(parts):
        sampled = sample_indices(train[position], part.report.sampling_ratio, config.seed + position)
        part.report.sampled = len(sampled) - len(train[position])
        train[position] = sampled
        if part.report.kind == "test":
            held[position] = sample_indices(held[position], part.report.sampling_ratio, config.seed + position)
            part.report.sampled = len(held[position]) - int(part.keep.sum())
        part.report.train_rows, part.report.eval_rows = len(train[position]), len(held[position])
    if config.test_datasets and not sum(len(rows) for rows in held):
        raise DataError("no evaluation rows left from test_datasets after preprocessing.", hint="see the report.")
    merged = _concat([clean.kept_rows(p, rows, config.sequence_len) for p, rows in zip(parts, train) if len(rows)])
    evaluation = [clean.kept_rows(p, rows, config.sequence_len) for p, rows in zip(parts, held) if len(rows)]
    # shuffle_merged_datasets: stored in a seeded mixed order; the training loop also reshuffles each epoch
    return merged.shuffle(seed=config.seed), _concat(evaluation) if evaluation else None


def _concat(parts: list[datasets.Dataset]) -> datasets.Dataset:
    return datasets.concatenate_datasets(parts) if len(parts) > 1 else parts[0]


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
