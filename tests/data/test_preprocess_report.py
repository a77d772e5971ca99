"""`hellbender preprocess`: the per-dataset table, histograms, warnings, and `--stats-json` for scripts."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hellbender.cli import app
from hellbender.data.inspect import boundary_warnings, histogram_lines
from hellbender.data.report import SourceReport
from tests.conftest import arithmetic_chats, write_config, write_jsonl

runner = CliRunner()


def _config(tmp_path: Path, model_dir: Path) -> Path:
    chats = arithmetic_chats(6) + [{"messages": "not a list"}]
    alpaca = [{"instruction": f"Say {i}", "output": f"{i}"} for i in range(4)]
    return write_config(
        tmp_path / "cfg.yml",
        base_model=str(model_dir),
        datasets=[
            {"path": str(write_jsonl(tmp_path / "chats.jsonl", chats)), "type": "chat_template"},
            {"path": str(write_jsonl(tmp_path / "alpaca.jsonl", alpaca)), "type": "alpaca", "sampling_ratio": 2},
        ],
        dataset_prepared_path=str(tmp_path / "prepared"),
        invalid_rows="drop",
        sequence_len=64,
    )


def test_stats_json_and_table(tmp_path, tiny_model_dir) -> None:
    config = _config(tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["preprocess", str(config), "--stats-json", str(tmp_path / "s.json")])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "s.json").read_text())
    assert (stats["reused"], stats["train_rows"], stats["val_rows"], stats["sequence_len"]) == (False, 14, 0, 64)
    assert stats["histogram_edges"] == [0, 8, 16, 24, 32, 40, 48, 56, 64]
    chats, alpaca = stats["datasets"]
    assert (chats["rows_in"], chats["dropped_invalid"], chats["rows_out"]) == (7, 1, 6)
    assert "chats.jsonl, row 7: `messages` must be a list" in chats["invalid_reasons"][0]
    assert (alpaca["sampling_ratio"], alpaca["sampled"], alpaca["train_rows"]) == (2.0, 4, 8)
    assert sum(chats["length_histogram"]) == 6 and len(chats["length_histogram"]) == 8
    assert 0 < chats["trained_fraction"] < 1 and chats["longest"] <= 64
    for fragment in ("rows in", "dropped: invalid", "dropped: duplicate", "2 (+4)", "trained %", "token lengths"):
        assert fragment in result.output, fragment
    assert "built " in result.output and "skipped invalid row" in result.output
    again = runner.invoke(app, ["preprocess", str(config)])
    assert f"reused cache {stats['path']}" in again.output.replace("\n", "")


def test_histogram_bars_scale_to_the_largest_bucket() -> None:
    stats = {"histogram_edges": [0, 8, 16]}
    lines = histogram_lines(stats, {"source": "d", "rows_out": 3, "length_histogram": [2, 1]})
    assert lines[1].count("█") == 30 and lines[2].count("█") == 15


def test_boundary_tokens_warn_with_the_dataset_and_the_fix() -> None:
    quiet = SourceReport(source="ok.jsonl", trained_tokens=1000, boundary_tokens=2)
    loud = SourceReport(source="merged.jsonl", trained_tokens=100, boundary_tokens=30)
    warnings = boundary_warnings([quiet, loud])
    assert len(warnings) == 1 and warnings[0].startswith("merged.jsonl: 30 tokens straddle")
    assert "Fix:" in warnings[0]
