"""Axolotl's run controls: loss watchdog, early stopping, eval/save steps, checkpoint limit, optimizer and
schedule knobs, LoRA extras."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from hellbender.config import load_config
from hellbender.errors import HellbenderError
from hellbender.model.adapters import lora_config
from hellbender.train.loop import train
from hellbender.train.optim import build_optimizer, build_scheduler
from tests.conftest import arithmetic_chats, write_config, write_jsonl


def _config(tmp_path: Path, model_dir: Path, **keys):
    data = write_jsonl(tmp_path / "d.jsonl", arithmetic_chats(12))
    base = {
        "base_model": str(model_dir),
        "datasets": [{"path": str(data), "type": "chat_template"}],
        "dataset_prepared_path": str(tmp_path / "p"),
        "output_dir": str(tmp_path / "out"),
        "micro_batch_size": 2,
        "sequence_len": 64,
        "learning_rate": 1e-3,
    }
    return load_config(write_config(tmp_path / "cfg.yml", **{**base, **keys}))


def _events(tmp_path: Path, event: str) -> list[dict]:
    lines = (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == event]


def test_loss_watchdog_aborts_a_diverged_run(tmp_path: Path, tiny_model_dir: Path) -> None:
    config = _config(tmp_path, tiny_model_dir, max_steps=5, loss_watchdog_threshold=0.5, loss_watchdog_patience=2)
    with pytest.raises(HellbenderError, match="step 2: the loss .* stayed above loss_watchdog_threshold"):
        train(config)


def test_early_stopping_and_eval_steps(tmp_path: Path, tiny_model_dir: Path) -> None:
    # A learning rate this small cannot lower the eval loss, so patience 2 stops the run at the 2nd evaluation.
    config = _config(
        tmp_path,
        tiny_model_dir,
        max_steps=8,
        val_set_size=4,
        eval_steps=2,
        early_stopping_patience=2,
        learning_rate=1e-12,
    )
    summary = train(config)
    assert [e["step"] for e in _events(tmp_path, "eval")] == [0, 2, 4]
    assert summary["step"] == 4 and _events(tmp_path, "early_stop")[0]["step"] == 4


def test_save_steps_with_total_limit(tmp_path: Path, tiny_model_dir: Path) -> None:
    train(_config(tmp_path, tiny_model_dir, max_steps=4, save_steps=1, save_total_limit=2))
    names = sorted(p.name for p in (tmp_path / "out" / "checkpoints").iterdir())
    assert names == ["checkpoint-2", "checkpoint-3"]


def test_optimizer_and_cosine_floor(tmp_path: Path, tiny_model_dir: Path) -> None:
    config = _config(
        tmp_path,
        tiny_model_dir,
        adam_beta1=0.8,
        adam_beta2=0.95,
        adam_epsilon=1e-6,
        cosine_min_lr_ratio=0.1,
        weight_decay=0.01,
    )
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    optimizer = build_optimizer(model, config)
    group = optimizer.param_groups[0]
    assert group["betas"] == (0.8, 0.95) and group["eps"] == 1e-6 and group["weight_decay"] == 0.01
    assert optimizer.param_groups[1]["weight_decay"] == 0.0  # the bias
    scheduler = build_scheduler(optimizer, config, total_steps=10)
    for _ in range(10):
        optimizer.step()
        scheduler.step()
    assert scheduler.get_last_lr()[0] == pytest.approx(1e-4)


def test_lora_extras_reach_peft(tmp_path: Path, tiny_model_dir: Path) -> None:
    config = _config(
        tmp_path,
        tiny_model_dir,
        adapter="lora",
        lora_modules_to_save=["lm_head"],
        peft_use_rslora=True,
        lora_target_modules=["q_proj", "v_proj"],
    )
    peft_config = lora_config(config)
    assert peft_config.modules_to_save == ["lm_head"] and peft_config.use_rslora
    assert set(peft_config.target_modules) == {"q_proj", "v_proj"}
