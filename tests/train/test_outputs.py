"""What a run writes: checkpoints with the full Accelerate state, alpaca data end to end, full fine-tune reload."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from hellbender.config import load_config
from hellbender.infer.generate import build_prompt, generate, load_for_inference
from hellbender.train.loop import train
from tests.conftest import write_config, write_jsonl


def test_checkpoints_and_full_model_outputs(tmp_path: Path, tiny_model_dir: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [{"instruction": f"Repeat {i}", "output": f"{i} {i}"} for i in range(8)])
    path = write_config(
        tmp_path / "cfg.yml",
        base_model=str(tiny_model_dir),
        datasets=[{"path": str(data), "type": "alpaca"}],
        dataset_prepared_path=str(tmp_path / "p"),
        output_dir=str(tmp_path / "out"),
        micro_batch_size=2,
        num_epochs=1,
        saves_per_epoch=2,
        learning_rate=1e-3,
        sequence_len=64,
    )
    config = load_config(path)
    summary = train(config)
    assert summary["step"] == 4
    checkpoints = sorted(p.name for p in (tmp_path / "out" / "checkpoints").iterdir())
    assert checkpoints == ["checkpoint-2"]  # the last step is the final model itself, not a checkpoint
    state = tmp_path / "out" / "checkpoints" / "checkpoint-2" / "state"
    assert any(state.glob("optimizer*")) and any(state.glob("random_states*"))
    assert (tmp_path / "out" / "checkpoints" / "checkpoint-2" / "model.safetensors").is_file()

    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "out", dtype=torch.float32)
    assert not torch.equal(reloaded.lm_head.weight, AutoModelForCausalLM.from_pretrained(tiny_model_dir).lm_head.weight)
    saved = load_config(tmp_path / "out" / "config.yml")
    assert saved == config

    loaded = load_for_inference(config)
    assert loaded.description.startswith("fine-tuned model")
    prompt = build_prompt(config, loaded.tokenizer, [{"role": "user", "content": "Repeat 3"}])
    assert prompt.endswith("### Instruction:\nRepeat 3\n\n### Response:\n")
    assert len(generate(loaded, [prompt], max_new_tokens=3)) == 1
    events = [json.loads(line)["event"] for line in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    assert events[0] == "start" and events[-1] == "end" and events.count("train") == 4
