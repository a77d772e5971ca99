"""The config reference (docs/config.md), generated from the field docs so it can never drift from the schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from hellbender.config.schema import Config, DatasetConfig


def _default(field: Any) -> str:
    if field.default is PydanticUndefined:
        return "required"
    return "empty" if field.default is None else f"`{field.default}`"


def _table(model: type[BaseModel]) -> list[str]:
    lines = ["| key | default | meaning |", "|---|---|---|"]
    for name, field in model.model_fields.items():
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {_default(field)} | {description} |")
    return lines


def reference_markdown() -> str:
    parts = [
        "# Config reference",
        "",
        "Generated from `hellbender/config/schema.py` by `hellbender config-docs`; do not edit by hand.",
        "Keys follow Axolotl's names. Unknown keys are errors; Axolotl keys not listed here are reported as",
        "not supported yet (or, for pure speed hints, warned about).",
        "",
        "## Top-level keys",
        "",
        *_table(Config),
        "",
        "## Keys of each `datasets:` entry",
        "",
        *_table(DatasetConfig),
    ]
    return "\n".join(parts) + "\n"
