"""What a run leaves in `output_dir`: the adapter (or full model) and tokenizer, the resolved config, a manifest
(versions, data fingerprint, seed, final metrics) and checkpoints. Folders are written aside, then renamed."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import shutil
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


def _save_weights(accelerator: Accelerator, model, tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:  # noqa: ANN001
    unwrapped = accelerator.unwrap_model(model)
    unwrapped.save_pretrained(
        str(folder),
        is_main_process=accelerator.is_main_process,
        save_function=accelerator.save,
        state_dict=accelerator.get_state_dict(model),
    )
    if accelerator.is_main_process:
        tokenizer.save_pretrained(str(folder))


def save_checkpoint(accelerator: Accelerator, model, tokenizer: PreTrainedTokenizerBase, output_dir: Path,  # noqa: ANN001
                    step: int, keep: int | None = None) -> Path:
    """Weights plus optimizer, scheduler and RNG state (accelerate's `save_state`) under checkpoints/checkpoint-N;
    with `keep` (save_total_limit), older checkpoints beyond the newest `keep` are deleted."""
    final = output_dir / "checkpoints" / f"checkpoint-{step}"
    building = final.with_name(f".{final.name}.partial")
    if accelerator.is_main_process:
        shutil.rmtree(building, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(building / "state"))
    _save_weights(accelerator, model, tokenizer, building)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(final, ignore_errors=True)
        building.rename(final)
        if keep is not None:
            saved = sorted(final.parent.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
            for old in saved[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
    return final


def save_final(accelerator: Accelerator, model, tokenizer: PreTrainedTokenizerBase, config: Config,  # noqa: ANN001
               data: PreparedData, summary: dict) -> None:
    output_dir = Path(config.output_dir)
    accelerator.wait_for_everyone()
    _save_weights(accelerator, model, tokenizer, output_dir)
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
