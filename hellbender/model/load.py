"""Base weights and tokenizer: resolve `base_model` (bundled | local HF folder | .gguf | hub id), pick the dtype,
apply the config's special tokens and chat template.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from hellbender.config import Config
from hellbender.data.chat_templates import resolve_chat_template
from hellbender.errors import HellbenderError
from hellbender.model.default_model import BUNDLED_PREFIX, cache_root, ensure_default_model

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def resolve_model_path(base_model: str) -> str:
    """A local folder for bundled, local and .gguf models; the id unchanged for hub models."""
    if base_model.startswith(BUNDLED_PREFIX):
        return str(ensure_default_model(base_model))
    path = Path(base_model).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise HellbenderError(f"base_model: GGUF file not found: {base_model}", hint="check the path.")
        return str(_converted_gguf(path))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise HellbenderError(
                f"base_model: `{base_model}` is a folder without config.json, so it is not a Hugging Face model.",
                hint="point base_model to the folder that holds config.json and the weights.",
            )
        return str(path)
    if path.exists() or not _HUB_ID.match(base_model) or base_model.startswith((".", "/", "~")):
        raise HellbenderError(
            f"base_model: path not found: {base_model}",
            hint="give an existing model folder, a .gguf file, a hub id like `org/name`, "
            "or `bundled:SmolLM2-135M-Instruct` for the model shipped with Hellbender.",
        )
    return base_model


def _converted_gguf(path: Path) -> Path:
    """Cache folder of a user's .gguf, keyed by its path, size and mtime (a changed file converts again)."""
    from hellbender.model.gguf_import import cached_hf_copy

    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    return cached_hf_copy(cache_root() / "gguf" / f"{path.stem}-{key}", lambda: path)


def _from_pretrained(loader, name: str, what: str, **kwargs):
    """Call a transformers loader and turn 'not found / offline' into one clear message."""
    try:
        return loader.from_pretrained(name, **kwargs)
    except OSError as exc:
        offline = (
            os.environ.get("HF_HUB_OFFLINE") == "1" or "offline" in str(exc).lower() or "connect" in str(exc).lower()
        )
        hint = (
            "this machine cannot reach the Hugging Face hub: download the model elsewhere "
            "(`huggingface-cli download ID --local-dir DIR`) and set base_model to that folder."
            if offline
            else "check the id or path; for gated models log in with `huggingface-cli login`."
        )
        raise HellbenderError(f"could not load the {what} `{name}`: {exc}".split("\n")[0], hint=hint) from exc


def _transformers_class(name: str | None, default: type, key: str) -> type:
    """`model_type` / `tokenizer_type`: a transformers class by name (Axolotl's meaning), else the Auto class."""
    if not name:
        return default
    import transformers

    cls = getattr(transformers, name, None)
    if cls is None or not hasattr(cls, "from_pretrained"):
        raise HellbenderError(
            f"{key}: `{name}` is not a transformers class with from_pretrained.",
            hint=f"use e.g. {default.__name__}, or leave {key} empty.",
        )
    return cls


def select_dtype(config: Config) -> torch.dtype:
    """bf16 where asked for (or `auto` and the GPU supports it), fp16 if asked, else fp32 (this CPU: fp32)."""
    if config.fp16:
        return torch.float16
    if config.bf16 is True:
        return torch.bfloat16
    if config.bf16 == "auto" and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_tokenizer(config: Config) -> PreTrainedTokenizerBase:
    name = config.tokenizer_config or config.base_model
    has_tokenizer = (Path(name) / "tokenizer_config.json").is_file()  # e.g. a run's output_dir (no config.json)
    source = name if has_tokenizer else resolve_model_path(name)
    loader = _transformers_class(config.tokenizer_type, AutoTokenizer, "tokenizer_type")
    tokenizer = _from_pretrained(loader, source, "tokenizer", trust_remote_code=config.trust_remote_code)
    if config.special_tokens:
        tokenizer.add_special_tokens(dict(config.special_tokens))
    if config.tokens:
        tokenizer.add_tokens(list(config.tokens))  # already-known tokens are skipped by the tokenizer
    if tokenizer.pad_token is None:
        # Padding positions are masked out of attention and loss, so any id works; eos is always there.
        tokenizer.pad_token = tokenizer.eos_token
    if config.chat_template or config.chat_template_jinja:
        tokenizer.chat_template = resolve_chat_template(config.chat_template, config.chat_template_jinja, tokenizer)
    return tokenizer


def load_model(
    config: Config,
    tokenizer: PreTrainedTokenizerBase,
    dtype: torch.dtype | None = None,
    attn_implementation: str | None = None,
) -> PreTrainedModel:
    """The base model in `dtype`, embeddings resized when the config added tokens."""
    source = resolve_model_path(config.base_model)
    kwargs: dict = {"dtype": dtype or select_dtype(config), "trust_remote_code": config.trust_remote_code}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if config.base_model_config:
        kwargs["config"] = _from_pretrained(
            AutoConfig,
            resolve_model_path(config.base_model_config),
            "model config",
            trust_remote_code=config.trust_remote_code,
        )
    loader = _transformers_class(config.model_type, AutoModelForCausalLM, "model_type")
    model = _from_pretrained(loader, source, "model", **kwargs)
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model
