"""Hellbender: fine-tune causal language models from one YAML file with Axolotl's key names."""

__version__ = "0.1.0"
