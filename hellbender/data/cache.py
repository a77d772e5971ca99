"""Fingerprint of everything that decides the prepared tokens, and the cache folder it names.

The key covers the bytes of every source file of `datasets:` and `test_datasets:` (not just their names: an edited
row must rebuild), each entry's settings (a hub dataset's `revision`, or the commit it resolves to when the hub can
be asked), every top-level key that changes tokens, labels or which rows are kept, the tokenizer (vocabulary,
special tokens, chat template) and `DATA_FORMAT_VERSION`, bumped whenever the code that turns rows into tokens
changes its output.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from transformers import PreTrainedTokenizerBase

from hellbender.config import Config, DatasetConfig
from hellbender.data.sources import is_hub_dataset, local_files, offline

DATA_FORMAT_VERSION = 2
# Top-level keys that change the prepared rows (per-entry keys are covered by the whole entry).
TOKEN_SETTINGS = (
    "sequence_len",
    "train_on_inputs",
    "excess_length_strategy",
    "val_set_size",
    "seed",
    "default_system_message",
    "tokens",
    "special_tokens",
    "dataset_exact_deduplication",
    "invalid_rows",
)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tokenizer_digest(tokenizer: PreTrainedTokenizerBase, chat_template: str | None) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    vocab = backend.to_str() if backend is not None else json.dumps(tokenizer.get_vocab(), sort_keys=True)
    parts = [vocab, json.dumps(tokenizer.special_tokens_map, sort_keys=True, default=str), chat_template or ""]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def hub_commit(ds: DatasetConfig) -> str | None:
    """The commit a hub dataset's revision resolves to, or None offline / when the hub cannot say.

    Without it a hub entry with no `revision` is keyed by its id only: new commits upstream would reuse the cache.
    """
    if offline():
        return None
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(ds.path, revision=ds.revision, timeout=10).sha
    except Exception:  # no network, gated, unknown id: loading will report it properly
        return None


def _source_key(ds: DatasetConfig) -> dict[str, Any]:
    key: dict[str, Any] = {"entry": ds.model_dump(mode="json")}
    if is_hub_dataset(ds):
        key["commit"] = hub_commit(ds)
    else:
        key["files"] = [[str(f), file_digest(f)] for f in local_files(ds)]
    return key


def data_fingerprint(config: Config, tokenizer: PreTrainedTokenizerBase, chat_template: str | None) -> str:
    key = {
        "version": DATA_FORMAT_VERSION,
        "sources": [_source_key(ds) for ds in config.datasets],
        "test_sources": [_source_key(ds) for ds in config.test_datasets or []],
        "tokenizer": tokenizer_digest(tokenizer, chat_template),
        "settings": {name: getattr(config, name) for name in TOKEN_SETTINGS},
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
