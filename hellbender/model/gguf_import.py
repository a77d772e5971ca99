"""Convert a GGUF checkpoint into a plain Hugging Face directory (safetensors + tokenizer).

`from_pretrained(gguf_file=...)` dequantizes into a model that `save_pretrained` refuses (it still carries a GGUF
quantization config); building a fresh model from the config without it and loading the state dict gives a normal
model that saves and reloads like any other.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from filelock import FileLock
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

from hellbender.errors import HellbenderError


def cached_hf_copy(target: Path, gguf_path: Callable[[], Path], force: bool = False) -> Path:
    """`target` if it already holds the converted model, else convert `gguf_path()` into it.

    A file lock makes several processes (ranks started together) convert once and share the result.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f"{target.name}.lock")):
        if (target / "config.json").is_file() and not force:
            return target
        return convert_gguf_to_hf(gguf_path(), target)


def replace_dir_atomically(build: Path, target: Path) -> None:
    """Move a fully written `build` directory to `target`, so readers never see a half-written one."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old-"))
        shutil.rmtree(old)
        target.rename(old)
    build.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def convert_gguf_to_hf(gguf_path: Path, target: Path) -> Path:
    """Write an fp32 HF copy of `gguf_path` to `target` (atomically) and return `target`."""
    if not gguf_path.is_file():
        raise HellbenderError(f"GGUF file not found: {gguf_path}", hint="check `base_model` in your config.")
    folder, name = str(gguf_path.parent), gguf_path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        gguf_model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except ImportError as exc:
        raise HellbenderError(f"Cannot read {gguf_path}: {exc}", hint="pip install gguf") from exc
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.float32
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(gguf_model.state_dict(), strict=True)
    model.tie_weights()
    if model.generation_config is not None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        model.generation_config.eos_token_id = tokenizer.eos_token_id
    target.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.build-"))
    model.save_pretrained(build)
    tokenizer.save_pretrained(build)
    replace_dir_atomically(build, target)
    return target
