"""`tokens:` adds vocabulary: the tokenizer learns the token, the embeddings grow, and under LoRA the new rows are
trained (peft trainable tokens), saved with the adapter, and back at inference."""

from __future__ import annotations

from pathlib import Path

import torch

from hellbender.config import load_config
from hellbender.infer.generate import load_for_inference
from hellbender.train.loop import train
from tests.conftest import write_config, write_jsonl

NEW = "<|answer|>"


def test_new_token_is_added_trained_and_reloaded(tmp_path: Path, tiny_model_dir: Path) -> None:
    rows = [{"instruction": f"Say {i}", "output": f"{NEW} {i}"} for i in range(8)]
    path = write_config(
        tmp_path / "cfg.yml",
        base_model=str(tiny_model_dir),
        datasets=[{"path": str(write_jsonl(tmp_path / "d.jsonl", rows)), "type": "alpaca"}],
        dataset_prepared_path=str(tmp_path / "p"),
        output_dir=str(tmp_path / "out"),
        adapter="lora",
        lora_target_modules=["q_proj", "v_proj"],
        tokens=[NEW],
        micro_batch_size=4,
        max_steps=3,
        learning_rate=1e-2,
        sequence_len=96,
    )
    config = load_config(path)
    train(config)
    loaded = load_for_inference(config)
    new_id = loaded.tokenizer.convert_tokens_to_ids(NEW)
    assert new_id == 49152  # appended after SmolLM2's 49152 tokens, as one token
    assert loaded.tokenizer(f"x {NEW} y", add_special_tokens=False)["input_ids"].count(new_id) == 1
    base = load_for_inference(config, base_only=True).model.get_input_embeddings().weight
    trained = loaded.model.get_input_embeddings()
    row = trained(torch.tensor([new_id], device=loaded.model.device))[0]
    assert base.shape[0] == 49153  # the base model is resized for the added token too
    assert not torch.allclose(row, base[new_id].to(row.device))  # the new row learned something
    old = trained(torch.tensor([5], device=loaded.model.device))[0]
    assert torch.allclose(old, base[5].to(old.device))  # other rows stay frozen under LoRA
