"""docs/config.md is generated from the schema; it must be regenerated when a field changes."""

from pathlib import Path

from hellbender.config.docs import reference_markdown


def test_config_reference_is_up_to_date() -> None:
    committed = (Path(__file__).parents[2] / "docs" / "config.md").read_text()
    assert committed == reference_markdown(), "run: hellbender config-docs > docs/config.md"
