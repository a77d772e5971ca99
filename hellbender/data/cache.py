"""Fingerprint of everything that decides the prepared tokens, and the cache folder it names.

The key covers the bytes of every source file (not just their names: an edited row must rebuild), the dataset and
masking settings, the tokenizer (vocabulary, special tokens, chat template) and `DATA_FORMAT_VERSION`, which is
bumped whenever the code that turns rows into tokens changes its output.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from transformers import PreTrainedTokenizerBase

from hellbender.config import Config
from hellbender.data.sources import local_files

DATA_FORMAT_VERSION = 1


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


def data_fingerprint(config: Config, tokenizer: PreTrainedTokenizerBase, chat_template: str | None) -> str:
    sources: list[dict[str, Any]] = []
    for ds in config.datasets:
        files = local_files(ds)
        sources.append(
            {
                "entry": ds.model_dump(mode="json"),
                "files": [[str(f), file_digest(f)] for f in files],
            }
        )
    key = {
        "version": DATA_FORMAT_VERSION,
        "sources": sources,
        "tokenizer": tokenizer_digest(tokenizer, chat_template),
        "settings": {
            name: getattr(config, name)
            for name in ("sequence_len", "train_on_inputs", "excess_length_strategy", "val_set_size", "seed")
        },
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]
