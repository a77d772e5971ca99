"""`hellbender train` with sample_packing on a tiny model: rows too long for sequence_len are counted drops, the
run packs the rest and reports its packing; an attention implementation that cannot train here is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hellbender.cli import app
from tests.conftest import arithmetic_chats, write_config, write_jsonl

runner = CliRunner()


def _config(tmp_path: Path, model: Path, **extra) -> Path:
    rows = arithmetic_chats(12)
    rows.append({"messages": [{"role": "user", "content": "long " * 200}, {"role": "assistant", "content": "ok"}]})
    return write_config(
        tmp_path / "cfg.yml",
        base_model=str(model),
        datasets=[{"path": str(write_jsonl(tmp_path / "d.jsonl", rows)), "type": "chat_template"}],
        dataset_prepared_path=str(tmp_path / "prep"),
        output_dir=str(tmp_path / "out"),
        sequence_len=128,
        sample_packing=True,
        micro_batch_size=1,
        max_steps=2,
        learning_rate=1e-3,
        **extra,
    )


def test_packed_training_counts_long_rows_and_reports_packing(tmp_path: Path, tiny_model_dir: Path) -> None:
    config = _config(tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["train", str(config)])
    assert result.exit_code == 0, result.output
    start = json.loads((tmp_path / "out" / "metrics.jsonl").read_text().splitlines()[0])
    assert start["train_rows"] == 12  # the 200-word row is longer than sequence_len: dropped, not a crash
    assert start["packing"]["rows"] == 12 and start["packing"]["bins"] < 12
    assert 0 < start["packing"]["efficiency"] <= 1
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert run["final"]["packing"] == start["packing"]

    preprocess = runner.invoke(app, ["preprocess", str(config)])
    assert preprocess.exit_code == 0, preprocess.output
    assert "too long" in preprocess.output  # the drop is counted in the summary


def test_flex_attention_without_cuda_names_the_fix(tmp_path: Path, tiny_model_dir: Path) -> None:
    result = runner.invoke(app, ["train", str(_config(tmp_path, tiny_model_dir, flex_attention=True))])
    assert result.exit_code == 1
    assert "flex_attention: true needs a CUDA GPU" in result.output and "sdp_attention: true" in result.output
    assert "Traceback" not in result.output
