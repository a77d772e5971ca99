"""What a run leaves in `output_dir`: the adapter (or full model) and tokenizer, the resolved config and a manifest
(versions, data fingerprint, seed, final metrics). Checkpoints are in `checkpoint.py`."""

from __future__ import annotations

import importlib.metadata
import json
import platform
from pathlib import Path

from accelerate import Accelerator
from transformers import PreTrainedTokenizerBase

from hellbender import __version__
from hellbender.config import Config, resolved_yaml
from hellbender.data.pipeline import PreparedData

_PACKAGES = ("torch", "transformers", "peft", "accelerate", "datasets", "tokenizers", "safetensors")


def package_versions() -> dict[str, str]:
    versions = {"hellbender": __version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def save_weights(accelerator: Accelerator, model, tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:
    unwrapped = accelerator.unwrap_model(model)
    unwrapped.save_pretrained(
        str(folder),
        is_main_process=accelerator.is_main_process,
        save_function=accelerator.save,
        state_dict=accelerator.get_state_dict(model),
    )
    if accelerator.is_main_process:
        tokenizer.save_pretrained(str(folder))


def save_final(
    accelerator: Accelerator,
    model,
    tokenizer: PreTrainedTokenizerBase,
    config: Config,
    data: PreparedData,
    summary: dict,
) -> None:
    output_dir = Path(config.output_dir)
    accelerator.wait_for_everyone()
    save_weights(accelerator, model, tokenizer, output_dir)
    if accelerator.is_main_process:
        (output_dir / "config.yml").write_text(resolved_yaml(config))
        manifest = {
            "versions": package_versions(),
            "seed": config.seed,
            "data_fingerprint": data.fingerprint,
            "prepared_data": str(data.path),
            "train_rows": len(data.train),
            "val_rows": len(data.val) if data.val is not None else 0,
            "processes": accelerator.num_processes,
            "final": summary,
        }
        (output_dir / "run.json").write_text(json.dumps(manifest, indent=2))
    accelerator.wait_for_everyone()
