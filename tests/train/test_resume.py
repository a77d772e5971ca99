"""Exact resume: a run continued from a checkpoint ends with the same weights and losses as one that never stopped
(same batches, learning rates and dropout masks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from hellbender.config import load_config
from hellbender.errors import HellbenderError
from hellbender.train.loop import train
from tests.conftest import arithmetic_chats, write_config, write_jsonl


def _write(tmp_path: Path, model_dir: Path, name: str, **keys) -> Path:
    data = write_jsonl(tmp_path / "d.jsonl", arithmetic_chats(10))
    base = {
        "base_model": str(model_dir),
        "datasets": [{"path": str(data), "type": "chat_template"}],
        "dataset_prepared_path": str(tmp_path / "p"),
        "output_dir": str(tmp_path / name),
        "adapter": "lora",
        "lora_r": 4,
        "lora_alpha": 8,
        "lora_dropout": 0.2,
        "lora_target_linear": True,
        "micro_batch_size": 2,
        "gradient_accumulation_steps": 2,
        "num_epochs": 3,
        "learning_rate": 1e-2,
        "warmup_steps": 2,
        "sequence_len": 64,
        "val_set_size": 2,
    }
    return write_config(tmp_path / f"{name}.yml", **{**base, **keys})


def _losses(folder: Path) -> list[float]:
    lines = (folder / "metrics.jsonl").read_text().splitlines()
    return [r["loss"] for r in map(json.loads, lines) if r["event"] == "train"]


def test_resumed_run_equals_uninterrupted(tmp_path: Path, tiny_model_dir: Path) -> None:
    # 8 train rows, 2 per micro-batch, 2 micro-batches per step: 2 steps per epoch, 6 in all.
    train(load_config(_write(tmp_path, tiny_model_dir, "straight")))
    train(load_config(_write(tmp_path, tiny_model_dir, "interrupted", save_steps=3)))  # checkpoint mid-epoch 2
    checkpoint = tmp_path / "interrupted" / "checkpoints" / "checkpoint-3"
    resumed = _write(tmp_path, tiny_model_dir, "resumed", resume_from_checkpoint=str(checkpoint))
    summary = train(load_config(resumed))

    assert summary["step"] == 6
    straight = load_file(tmp_path / "straight" / "adapter_model.safetensors")
    again = load_file(tmp_path / "resumed" / "adapter_model.safetensors")
    for key, value in straight.items():
        torch.testing.assert_close(again[key], value, rtol=0, atol=1e-6)
    assert _losses(tmp_path / "resumed") == pytest.approx(_losses(tmp_path / "straight")[3:], abs=1e-6)


def test_auto_resume_picks_newest_and_refuses_changed_data(tmp_path: Path, tiny_model_dir: Path) -> None:
    config = _write(tmp_path, tiny_model_dir, "run", save_steps=2, max_steps=4)
    train(load_config(config))
    auto = load_config(config, ["--auto_resume_from_checkpoints", "true", "--max_steps", "5"])
    assert train(auto)["step"] == 5
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    starts = [r for r in map(json.loads, lines) if r["event"] == "start"]
    assert starts[-1]["resumed_at_step"] == 2 and starts[-1]["resumed_from"].endswith("checkpoint-2")

    write_jsonl(tmp_path / "d.jsonl", arithmetic_chats(11))  # the data changed since the checkpoint
    changed = load_config(config, ["--resume_from_checkpoint", str(tmp_path / "run" / "checkpoints" / "checkpoint-2")])
    with pytest.raises(HellbenderError, match="different prepared data"):
        train(changed)


def test_lora_checkpoint_state_holds_only_trainable_weights(tmp_path: Path, tiny_model_dir: Path) -> None:
    train(load_config(_write(tmp_path, tiny_model_dir, "run", save_steps=2, max_steps=3)))
    state = load_file(tmp_path / "run" / "checkpoints" / "checkpoint-2" / "state" / "model.safetensors")
    assert state and all("lora_" in name for name in state)
    other = load_config(
        _write(
            tmp_path,
            tiny_model_dir,
            "other",
            lora_r=8,
            resume_from_checkpoint=str(tmp_path / "run" / "checkpoints" / "checkpoint-2"),
        )
    )
    with pytest.raises(HellbenderError, match="different trainable weights"):
        train(other)
