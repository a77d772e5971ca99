"""Adapters on top of the base model (peft). LoRA now; each method is built here and nowhere else."""

from __future__ import annotations

from pathlib import Path

from peft import LoraConfig, PeftModel, get_peft_model
from transformers import PreTrainedModel

from hellbender.config import Config
from hellbender.errors import HellbenderError


def lora_config(config: Config, token_ids: list[int] | None = None) -> LoraConfig:
    """The peft LoRA config; `token_ids` (the config's `tokens:`) get their embedding rows trained as well."""
    tying = {}
    if config.lora_modules_to_save and "ensure_weight_tying" in LoraConfig.__dataclass_fields__:
        # Tied input/output embeddings (SmolLM2, Llama 3.2 …) stay tied when one of them is trained in full.
        tying["ensure_weight_tying"] = True
    if config.lora_target_linear:
        targets: list[str] | str | None = "all-linear"
    else:
        targets = config.lora_target_modules  # None: peft's per-architecture default (q_proj, v_proj for Llama)
    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        modules_to_save=config.lora_modules_to_save,
        use_rslora=config.peft_use_rslora,
        use_dora=config.peft_use_dora,
        bias="none",
        task_type="CAUSAL_LM",
        trainable_token_indices=_token_rows(config, token_ids),
        **tying,
    )


def _token_rows(config: Config, token_ids: list[int] | None) -> list[int] | None:
    """Embedding rows to train for added tokens: without them a new token's row keeps its initial value.

    peft trains just those rows (input embedding, and the tied output head with it); when the embeddings are
    trained in full through `lora_modules_to_save`, that already covers them.
    """
    if not token_ids or set(config.lora_modules_to_save or ()) & {"embed_tokens", "lm_head"}:
        return None
    return sorted(set(token_ids))


def apply_adapter(model: PreTrainedModel, config: Config, token_ids: list[int] | None = None) -> PreTrainedModel:
    """Wrap the model for training: LoRA (new, or continued from `lora_model_dir`) or all weights trainable."""
    if config.adapter is None:
        model.requires_grad_(True)
        return model
    if config.lora_model_dir:
        return load_adapter(model, config.lora_model_dir, trainable=True)
    try:
        return get_peft_model(model, lora_config(config, token_ids))
    except ValueError as exc:
        raise HellbenderError(
            f"lora_target_modules: {exc}",
            hint="list module names that exist in this model (e.g. q_proj, v_proj) or set lora_target_linear: true.",
        ) from exc


def load_adapter(model: PreTrainedModel, adapter_dir: str | Path, trainable: bool = False) -> PeftModel:
    path = Path(adapter_dir)
    if not (path / "adapter_config.json").is_file():
        raise HellbenderError(
            f"lora_model_dir: no LoRA adapter in `{adapter_dir}` (adapter_config.json is missing).",
            hint="point it to the output_dir of a LoRA run.",
        )
    return PeftModel.from_pretrained(model, str(path), is_trainable=trainable)
