"""Loss normalization (DESIGN.md decision 5): micro_batch_size × gradient_accumulation_steps does not change the
update. Checked against an independent computation: per-sample token losses summed by hand."""

from __future__ import annotations

from pathlib import Path

import torch
from accelerate import Accelerator
from transformers import AutoModelForCausalLM

from hellbender.config import load_config
from hellbender.data.collate import PadCollator
from hellbender.train.loop import train, train_step
from tests.conftest import write_config, write_jsonl

IGNORE = -100


def _rows() -> list[dict]:
    """Four samples of different lengths and different trained-token counts (so per-batch means would differ)."""
    torch.manual_seed(1)
    rows = []
    for length, trained in ((5, 1), (9, 6), (7, 3), (12, 2)):
        ids = torch.randint(10, 1000, (length,)).tolist()
        rows.append({"input_ids": ids, "labels": [IGNORE] * (length - trained) + ids[length - trained :]})
    return rows


def _grads(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])


def test_accumulated_gradient_equals_big_batch_and_hand_computed(tiny_model_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    rows, collate, accelerator = _rows(), PadCollator(pad_token_id=2), Accelerator(cpu=True)

    # Independent reference: each sample alone (no padding), summed token losses / all trained tokens.
    total_loss, total_tokens = 0.0, 0
    for row in rows:
        ids, labels = torch.tensor([row["input_ids"]]), torch.tensor([row["labels"]])
        logits = model(input_ids=ids).logits[:, :-1]
        target = labels[:, 1:]
        total_loss = total_loss + torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)), target.reshape(-1), ignore_index=IGNORE, reduction="sum"
        )
        total_tokens += int((target != IGNORE).sum())
    (total_loss / total_tokens).backward()
    reference = _grads(model)
    model.zero_grad()

    loss_a, tokens_a = train_step(model, [collate([row]) for row in rows], accelerator)  # mbs 1, accumulation 4
    accumulated = _grads(model)
    model.zero_grad()
    loss_b, tokens_b = train_step(model, [collate(rows)], accelerator)  # mbs 4, accumulation 1
    big_batch = _grads(model)

    assert tokens_a == tokens_b == total_tokens
    assert abs(loss_a - loss_b) < 1e-5 and abs(loss_a - total_loss.item() / total_tokens) < 1e-5
    torch.testing.assert_close(accumulated, reference, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(big_batch, reference, rtol=1e-4, atol=1e-6)


def test_training_runs_give_same_update(tmp_path: Path, tiny_model_dir: Path) -> None:
    """End to end through `train`: one optimizer step with 1×4 and 4×1 saves the same weights."""
    data = write_jsonl(
        tmp_path / "d.jsonl",
        [
            {
                "messages": [
                    {"role": "user", "content": f"Count to {i}"},
                    {"role": "assistant", "content": " ".join(str(n) for n in range(i + 1))},
                ]
            }
            for i in range(1, 5)
        ],
    )
    saved = {}
    for name, (micro, accumulation) in {"a": (1, 4), "b": (4, 1)}.items():
        path = write_config(
            tmp_path / f"{name}.yml",
            base_model=str(tiny_model_dir),
            datasets=[{"path": str(data), "type": "chat_template"}],
            dataset_prepared_path=str(tmp_path / "prep"),
            output_dir=str(tmp_path / name),
            micro_batch_size=micro,
            gradient_accumulation_steps=accumulation,
            max_steps=1,
            learning_rate=1e-3,
            lr_scheduler="constant",
            sequence_len=128,
        )
        summary = train(load_config(path))
        assert summary["trained_tokens"] > 0
        saved[name] = AutoModelForCausalLM.from_pretrained(tmp_path / name, dtype=torch.float32).state_dict()
    for key, value in saved["a"].items():
        torch.testing.assert_close(value, saved["b"][key], rtol=1e-4, atol=1e-5)
    before = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).state_dict()
    assert any(not torch.equal(before[k], saved["a"][k]) for k in before), "the step changed nothing"
