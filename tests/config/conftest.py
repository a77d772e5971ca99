"""Fixtures for config tests: write YAML files, a minimal valid config."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


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
    return "base_model: HuggingFaceTB/SmolLM2-135M-Instruct\ndatasets:\n  - path: data/train.jsonl\n    type: alpaca\n"
