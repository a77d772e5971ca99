"""Config: one flat YAML file with Axolotl's key names, typed, documented per field, all problems reported at once."""

from hellbender.config.load import load_config, parse_overrides, resolved_yaml
from hellbender.config.schema import Config, DatasetConfig

__all__ = ["Config", "DatasetConfig", "load_config", "parse_overrides", "resolved_yaml"]
