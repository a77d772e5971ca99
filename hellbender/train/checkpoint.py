"""Checkpoints that resume exactly (DESIGN.md decision 9): Accelerate's state (model, optimizer, scheduler, RNG),
the weights in the usual format, and the loop's own position, written aside and renamed into place.

Resuming replays nothing: the epoch's seeded order is rebuilt and the micro-batches already trained are skipped, so
an interrupted run continues with the same batches, learning rates and dropout masks as one that never stopped.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from safetensors import safe_open
from transformers import PreTrainedTokenizerBase

from hellbender.config import Config
from hellbender.errors import HellbenderError
from hellbender.train.outputs import save_weights

TRAINER_STATE = "trainer_state.json"


def save_only_trainable_weights(accelerator: Accelerator) -> None:
    """Keep frozen base weights out of `save_state`: a LoRA checkpoint then holds megabytes, not the whole model.

    The frozen weights are loaded from `base_model` anyway, so they are never needed to resume; `load_checkpoint`
    loads with strict=False and checks the names itself.
    """

    def keep_trainable(models: list[torch.nn.Module], weights: list[dict], _: str) -> None:
        for i, model in enumerate(models):
            trainable = {name for name, param in model.named_parameters() if param.requires_grad}
            weights[i] = {name: tensor for name, tensor in weights[i].items() if name in trainable}

    accelerator.register_save_state_pre_hook(keep_trainable)


def _step_of(path: Path) -> int:
    return int(path.name.rsplit("-", 1)[1])


def save_checkpoint(
    accelerator: Accelerator,
    model,
    tokenizer: PreTrainedTokenizerBase,
    output_dir: Path,
    progress: dict[str, Any],
    keep: int | None = None,
) -> Path:
    """Write checkpoints/checkpoint-<step>; with `keep` (save_total_limit) delete all but the newest `keep`."""
    final = output_dir / "checkpoints" / f"checkpoint-{progress['step']}"
    building = final.with_name(f".{final.name}.partial")
    if accelerator.is_main_process:
        shutil.rmtree(building, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(building / "state"))
    save_weights(accelerator, model, tokenizer, building)
    if accelerator.is_main_process:
        (building / TRAINER_STATE).write_text(json.dumps(progress, indent=2))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        shutil.rmtree(final, ignore_errors=True)
        building.rename(final)
        if keep is not None:
            for old in sorted(final.parent.glob("checkpoint-*"), key=_step_of)[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def checkpoint_to_resume(config: Config) -> Path | None:
    """`resume_from_checkpoint`, else with `auto_resume_from_checkpoints` the newest complete one, else None."""
    if config.resume_from_checkpoint:
        path = Path(config.resume_from_checkpoint)
        if not (path / TRAINER_STATE).is_file():
            raise HellbenderError(
                f"resume_from_checkpoint: `{path}` is not a Hellbender checkpoint ({TRAINER_STATE} is missing).",
                hint="point it to output_dir/checkpoints/checkpoint-N of an earlier run.",
            )
        return path
    if config.auto_resume_from_checkpoints:
        found = [
            p for p in (Path(config.output_dir) / "checkpoints").glob("checkpoint-*") if (p / TRAINER_STATE).is_file()
        ]
        return max(found, key=_step_of) if found else None
    return None


def load_checkpoint(accelerator: Accelerator, model: torch.nn.Module, path: Path, fingerprint: str) -> dict[str, Any]:
    """Restore Accelerate's state from `path` and return the loop's saved position."""
    progress = json.loads((path / TRAINER_STATE).read_text())
    if progress.get("data_fingerprint") != fingerprint:
        raise HellbenderError(
            f"resume_from_checkpoint: `{path}` was trained on different prepared data (fingerprint "
            f"{progress.get('data_fingerprint')}, now {fingerprint}); resuming would not continue the same run.",
            hint="restore the data and data settings of that run, or start a new run without resuming.",
        )
    saved: dict[str, list[int]] = {}
    for file in (path / "state").glob("model*.safetensors"):
        with safe_open(str(file), framework="pt") as handle:
            saved |= {name: list(handle.get_slice(name).get_shape()) for name in handle.keys()}
    expected = {name: list(p.shape) for name, p in model.named_parameters() if p.requires_grad}
    differ = sorted(k for k in saved.keys() | expected.keys() if saved.get(k) != expected.get(k))
    if differ:
        raise HellbenderError(
            f"resume_from_checkpoint: `{path}` holds different trainable weights than this run builds "
            f"({len(differ)} names or shapes differ, e.g. {differ[0]}).",
            hint="resume with the adapter settings (adapter, lora_r, lora_target_modules, …) of the run that wrote it.",
        )
    accelerator.load_state(str(path / "state"), strict=False)
    return progress
