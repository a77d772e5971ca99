"""End to end on the real SmolLM2-135M-Instruct through the CLI: preprocess, train (LoRA), load the adapter with
plain peft, merge and reload with plain transformers, chat, evaluate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

from tests.conftest import arithmetic_chats, write_config, write_jsonl

pytestmark = pytest.mark.slow


def _cli(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "hellbender", *args], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One short LoRA run, shared by the tests below: 12 training rows seen twice, evaluated before and per epoch."""
    root = tmp_path_factory.mktemp("e2e")
    data = write_jsonl(root / "train.jsonl", arithmetic_chats(16))
    config = write_config(
        root / "cfg.yml",
        base_model="bundled:SmolLM2-135M-Instruct",
        datasets=[{"path": str(data), "type": "chat_template"}],
        dataset_prepared_path=str(root / "prep"),
        output_dir=str(root / "out"),
        val_set_size=4,
        sequence_len=128,
        adapter="lora",
        lora_r=8,
        lora_alpha=16,
        lora_target_linear=True,
        micro_batch_size=4,
        gradient_accumulation_steps=1,
        num_epochs=2,
        learning_rate=2e-3,
        warmup_steps=1,
        evals_per_epoch=1,
        seed=7,
    )
    _cli("train", str(config), cwd=root)
    return {"root": root, "config": config, "out": root / "out", "data": data}


def _records(out: Path, event: str) -> list[dict]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == event]


def test_loss_decreases(run: dict[str, Path]) -> None:
    train, evals = _records(run["out"], "train"), _records(run["out"], "eval")
    assert len(train) == 6 and [r["step"] for r in evals] == [0, 3, 6]
    assert sum(r["loss"] for r in train[-2:]) < sum(r["loss"] for r in train[:2])
    assert evals[-1]["eval_loss"] < 0.5 * evals[0]["eval_loss"]  # step 0 is the base model


def test_outputs_are_complete(run: dict[str, Path]) -> None:
    out = run["out"]
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "config.yml", "run.json"):
        assert (out / name).is_file(), name
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["seed"] == 7 and manifest["train_rows"] == 12 and manifest["versions"]["transformers"]


def test_adapter_loads_with_plain_peft_and_merged_model_matches(run: dict[str, Path], smollm2_dir: Path) -> None:
    _cli("merge-lora", str(run["config"]), cwd=run["root"])
    ids = torch.tensor([[1, 4093, 198, 1780, 314, 216, 33, 27, 33, 47, 2]])
    base = AutoModelForCausalLM.from_pretrained(smollm2_dir, dtype=torch.float32)
    with torch.no_grad():
        base_logits = base(ids).logits
        adapted = PeftModel.from_pretrained(base, run["out"]).eval()
        adapter_logits = adapted(ids).logits
        merged = AutoModelForCausalLM.from_pretrained(run["out"] / "merged", dtype=torch.float32).eval()
        merged_logits = merged(ids).logits
    assert not torch.allclose(adapter_logits, base_logits, atol=1e-3), "the adapter changed nothing"
    # fp32 merge: W + B·A·scale folded once vs applied per forward; differences are rounding only.
    torch.testing.assert_close(merged_logits, adapter_logits, rtol=0, atol=1e-4)


def test_preprocess_debug_shows_trained_tokens(run: dict[str, Path]) -> None:
    output = _cli("preprocess", str(run["config"]), "--debug", "--debug-num-examples", "1", cwd=run["root"])
    assert "reused" in output  # training already built this exact cache
    assert "[<|im_end|>](2)" in output and "rows in" in output


def test_inference_one_prompt(run: dict[str, Path]) -> None:
    reply = _cli(
        "inference", str(run["config"]), "--prompt", "What is 3 plus 3?", "--max-new-tokens", "12", cwd=run["root"]
    )
    assert reply.strip()


def test_inference_chat_on_stdin(run: dict[str, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hellbender", "inference", str(run["config"]), "--max-new-tokens", "8"],
        input="What is 2 plus 2?\nAnd 5 plus 5?\n",
        cwd=run["root"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) >= 2


def test_evaluate_writes_predictions(run: dict[str, Path]) -> None:
    output = _cli(
        "evaluate",
        str(run["config"]),
        "--data",
        str(run["data"]),
        "--limit",
        "3",
        "--max-new-tokens",
        "12",
        cwd=run["root"],
    )
    result = json.loads(output.strip().splitlines()[-1])
    assert result["rows"] == 3 and 0 <= result["exact_match"] <= 1
    predictions = Path(result["predictions"]).read_text().splitlines()
    assert len(predictions) == 3 and "prediction" in json.loads(predictions[0])
