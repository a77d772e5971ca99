"""Commands that need no model: validate (resolved config, overrides) and config-docs."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from hellbender.cli import app
from tests.conftest import write_config

runner = CliRunner()


def test_validate_prints_resolved_config_with_overrides(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "cfg.yml",
        base_model="bundled:SmolLM2-135M-Instruct",
        datasets=[{"path": "data.jsonl", "type": "chat_template"}],
        learning_rate=2e-4,
    )
    result = runner.invoke(
        app, ["validate", str(config), "--learning_rate", "1e-4", "--lora-r=16", "--adapter", "lora"]
    )
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load(result.stdout)
    assert resolved["learning_rate"] == 1e-4 and resolved["lora_r"] == 16 and resolved["adapter"] == "lora"
    assert resolved["sequence_len"] == 2048  # defaults are shown too
    assert resolved["datasets"][0]["field_messages"] == "messages"


def test_validate_reports_override_errors(tmp_path: Path) -> None:
    config = write_config(tmp_path / "cfg.yml", base_model="x/y", datasets=[{"path": "d.jsonl"}])
    result = runner.invoke(app, ["validate", str(config), "--micro_batch_size", "many"])
    assert result.exit_code == 1
    assert "micro_batch_size" in result.output and "Traceback" not in result.output


def test_config_docs_lists_every_key() -> None:
    result = runner.invoke(app, ["config-docs"])
    assert result.exit_code == 0 and "| `lora_target_linear` |" in result.stdout
