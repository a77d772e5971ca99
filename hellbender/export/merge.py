"""`hellbender merge-lora`: fold the LoRA adapter into the base weights and save a plain transformers model."""

from __future__ import annotations

from pathlib import Path

from hellbender.config import Config
from hellbender.errors import HellbenderError
from hellbender.model.adapters import load_adapter
from hellbender.model.load import load_model, load_tokenizer, select_dtype


def merge_lora(config: Config, output: str | None = None) -> Path:
    """Write base+adapter merged (safetensors, sharded at 5 GB) and the tokenizer; default `output_dir/merged`."""
    adapter_dir = Path(config.lora_model_dir or config.output_dir)
    if not (adapter_dir / "adapter_config.json").is_file() and (adapter_dir / "config.json").is_file():
        raise HellbenderError(
            f"`{adapter_dir}` holds a full fine-tune, not a LoRA adapter: there is nothing to merge.",
            hint="load that folder directly (AutoModelForCausalLM.from_pretrained, or base_model: in a config).",
        )
    if not (adapter_dir / "adapter_config.json").is_file():
        raise HellbenderError(
            f"no LoRA adapter to merge in `{adapter_dir}` (adapter_config.json is missing).",
            hint="train a LoRA run first, or pass --lora_model_dir DIR.",
        )
    target = Path(output) if output else Path(config.output_dir) / "merged"
    tokenizer_source = adapter_dir if (adapter_dir / "tokenizer_config.json").is_file() else None
    tokenizer = load_tokenizer(
        config.model_copy(update={"tokenizer_config": str(tokenizer_source)}) if tokenizer_source else config
    )
    model = load_model(config, tokenizer, select_dtype(config))
    merged = load_adapter(model, adapter_dir).merge_and_unload()
    merged.save_pretrained(str(target), max_shard_size="5GB")
    tokenizer.save_pretrained(str(target))
    return target
