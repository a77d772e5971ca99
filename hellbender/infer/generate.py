"""Load a fine-tuned model for use (base + adapter, or a full fine-tune's output) and generate replies.

Prompts are built the way the first training dataset's format built them: the chat template for chat datasets,
the alpaca (or variant, or user-defined) prompt for instruction datasets, the user's text as it is for raw-text
formats, so what the model sees at inference matches what it learned from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from hellbender.config import Config
from hellbender.config.schema import UserFormat
from hellbender.data.formats.alpaca import VARIANTS, alpaca_prompt
from hellbender.data.formats.user_defined import user_prompt
from hellbender.data.pipeline import bos_text
from hellbender.errors import HellbenderError
from hellbender.model.adapters import load_adapter
from hellbender.model.load import load_model, load_tokenizer, select_dtype


@dataclass
class LoadedModel:
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    description: str


def trained_weights(config: Config) -> tuple[str, Path] | None:
    """('adapter' | 'full', folder) of the weights to use: lora_model_dir, else what output_dir holds."""
    if config.lora_model_dir:
        return "adapter", Path(config.lora_model_dir)
    output = Path(config.output_dir)
    if (output / "adapter_config.json").is_file():
        return "adapter", output
    if (output / "config.json").is_file() and any(output.glob("*.safetensors")):
        return "full", output
    return None


def load_for_inference(config: Config, base_only: bool = False) -> LoadedModel:
    """The base model with the run's adapter (or the full fine-tune) in eval mode."""
    found = None if base_only else trained_weights(config)
    if found is None and not base_only:
        raise HellbenderError(
            f"no trained weights found in output_dir `{config.output_dir}` and no lora_model_dir is set.",
            hint="train first (`hellbender train CONFIG`), pass --lora_model_dir DIR, or use --base for the base "
            "model.",
        )
    description = f"base model {config.base_model}"
    if found is not None:
        kind, folder = found
        updates = {"base_model": str(folder)} if kind == "full" else {}
        if (folder / "tokenizer_config.json").is_file():  # the run's tokenizer: added tokens, chat template
            updates["tokenizer_config"] = str(folder)
        config = config.model_copy(update=updates)
        description = f"{config.base_model} + adapter {folder}" if kind == "adapter" else f"fine-tuned model {folder}"
    tokenizer = load_tokenizer(config)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = load_model(config, tokenizer, select_dtype(config)).to(device)
    if found is not None and found[0] == "adapter":
        model = load_adapter(model, found[1])
    model.eval()
    return LoadedModel(model, tokenizer, description)


def uses_chat_template(config: Config) -> bool:
    return config.datasets[0].type == "chat_template"


def build_prompt(config: Config, tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]]) -> str:
    """Text the model continues: the chat template with a generation prompt, or the dataset format's prompt."""
    if uses_chat_template(config):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = "\n\n".join(m["content"] for m in messages if m["role"] == "user")
    kind = config.datasets[0].type
    if isinstance(kind, UserFormat):
        prompt = user_prompt(kind, user, system=system)
    elif kind in VARIANTS:
        prompt = VARIANTS[kind].prompt(user, "", system)
    elif kind == "alpaca":
        prompt = alpaca_prompt(user, system=system)
    elif kind == "input_output":
        return user  # template-free: the user writes every token, bos included
    else:  # completion, pretokenized: continue the text as given
        prompt = user
    return bos_text(tokenizer) + prompt  # bos exactly as in training


def generate(
    loaded: LoadedModel,
    prompts: list[str],
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    streamer=None,
) -> list[str]:
    """Replies to a batch of prompt texts (left-padded; greedy when temperature is 0)."""
    tokenizer, model = loaded.tokenizer, loaded.model
    tokenizer.padding_side = "left"
    inputs = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
    sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
    with torch.no_grad():
        output = model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            streamer=streamer,
            **sampling,
        )
    new_tokens = output[:, inputs["input_ids"].shape[1] :]
    return [text.strip() for text in tokenizer.batch_decode(new_tokens, skip_special_tokens=True)]
