"""Config tests run without the data stage: if the prompt-format registry cannot load, stand in for it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _formats(monkeypatch: pytest.MonkeyPatch) -> None:
    from hellbender.data import formats

    try:
        formats.registered_formats()
    except Exception:  # the format modules are not written yet
        monkeypatch.setattr(formats, "registered_formats", lambda: ["alpaca", "chat_template"])


@pytest.fixture
def write(tmp_path: Path):
    """Write dedented YAML to a file and return its path."""

    def _write(text: str, name: str = "config.yml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def minimal() -> str:
    return (
        "base_model: HuggingFaceTB/SmolLM2-135M-Instruct\n"
        "datasets:\n"
        "  - path: data/train.jsonl\n"
        "    type: alpaca\n"
    )
