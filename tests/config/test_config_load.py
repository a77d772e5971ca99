"""Loading: file errors, CLI overrides, strict, resolved YAML round-trip, an Axolotl-style example."""

from __future__ import annotations

import logging

import pytest

from hellbender.config import load_config, parse_overrides, resolved_yaml
from hellbender.errors import ConfigError, HellbenderError

AXOLOTL_LORA_1B = """\
base_model: NousResearch/Llama-3.2-1B

load_in_8bit: false
load_in_4bit: false
strict: false

datasets:
  - path: teknium/GPT4-LLM-Cleaned
    type: alpaca
dataset_prepared_path: last_run_prepared
val_set_size: 0.1
output_dir: ./outputs/lora-out

adapter: lora
lora_model_dir:

sequence_len: 2048
sample_packing: false
pad_to_sequence_len: true

lora_r: 16
lora_alpha: 32
lora_dropout: 0.05
lora_fan_in_fan_out:
lora_target_modules:
  - gate_proj
  - down_proj
  - up_proj
  - q_proj
  - v_proj
  - k_proj
  - o_proj

wandb_project:
wandb_entity:
wandb_watch:
wandb_name:
wandb_log_model:

gradient_accumulation_steps: 2
micro_batch_size: 2
num_epochs: 1
optimizer: adamw_torch
lr_scheduler: cosine
learning_rate: 0.0002

train_on_inputs: false
group_by_length: false
bf16: auto
fp16:
tf32: false

gradient_checkpointing: true
early_stopping_patience:
resume_from_checkpoint:
local_rank:
logging_steps: 1
xformers_attention:
flash_attention: true

warmup_steps: 10
evals_per_epoch: 4
saves_per_epoch: 1
debug:
deepspeed:
weight_decay: 0.0
fsdp:
fsdp_config:
special_tokens:
  pad_token: "<|end_of_text|>"
"""


def test_axolotl_example_validates(write, caplog):
    with caplog.at_level(logging.WARNING, logger="hellbender.config"):
        cfg = load_config(write(AXOLOTL_LORA_1B))
    assert cfg.adapter == "lora" and cfg.lora_r == 16 and cfg.lora_alpha == 32
    assert cfg.lora_target_modules[-1] == "o_proj" and cfg.learning_rate == 2e-4
    assert cfg.special_tokens == {"pad_token": "<|end_of_text|>"}
    assert cfg.val_set_size == 0.1 and cfg.warmup_steps == 10 and cfg.fp16 is False
    assert cfg.flash_attention and cfg.pad_to_sequence_len and not cfg.sample_packing
    assert not caplog.records  # every key of this file is implemented or empty


def test_missing_file(tmp_path):
    with pytest.raises(HellbenderError) as info:
        load_config(tmp_path / "nope.yml")
    assert "config file not found" in str(info.value) and "nope.yml" in str(info.value)


def test_yaml_syntax_error_names_line(write):
    path = write("base_model: m\ndatasets:\n  - path: a\n   type: [unclosed\n")
    with pytest.raises(HellbenderError) as info:
        load_config(path)
    message = info.value.message
    assert str(path) in message and "invalid YAML at line" in message
    assert not isinstance(info.value, ConfigError)


def test_duplicate_key_is_an_error(write, minimal):
    with pytest.raises(HellbenderError) as info:
        load_config(write(minimal + "lora_r: 8\nlora_r: 16\n"))
    assert "duplicate key 'lora_r'" in info.value.message and "line 6" in info.value.message


@pytest.mark.parametrize(("text", "needle"), [("- a\n- b\n", "got a list"), ("", "the file is empty")])
def test_top_level_must_be_mapping(write, text, needle):
    with pytest.raises(HellbenderError) as info:
        load_config(write(text))
    assert needle in info.value.message


def test_parse_overrides_types():
    out = parse_overrides(
        [
            "--learning_rate",
            "1e-4",
            "--lora-r=16",
            "--bf16",
            "false",
            "--lora_target_modules",
            "[q_proj,v_proj]",
            "--output-dir",
            "runs/a",
            "--warmup_steps",
            "-1",
            "--lora_dropout=.05",
            "--chat_template=",
        ]
    )
    assert out == {
        "learning_rate": 1e-4,
        "lora_r": 16,
        "bf16": False,
        "lora_target_modules": ["q_proj", "v_proj"],
        "output_dir": "runs/a",
        "warmup_steps": -1,
        "lora_dropout": 0.05,
        "chat_template": None,
    }
    assert isinstance(out["learning_rate"], float)


@pytest.mark.parametrize("args", [["--lora_r"], ["lora_r", "8"], ["--lora_r", "--seed", "1"], ["--", "x"]])
def test_parse_overrides_bad_form(args):
    with pytest.raises(HellbenderError):
        parse_overrides(args)


def test_overrides_applied_and_validated(write, minimal):
    cfg = load_config(write(minimal + "lora_r: 8\n"), ["--learning-rate", "1e-4", "--lora_r=32", "--bf16", "false"])
    assert cfg.learning_rate == 1e-4 and cfg.lora_r == 32 and cfg.bf16 is False
    cfg = load_config(write(minimal), {"seed": 7})
    assert cfg.seed == 7
    with pytest.raises(ConfigError) as info:
        load_config(write(minimal), ["--lerning-rate", "1"])
    assert info.value.problems == ["`lerning_rate`: unknown key; did you mean `learning_rate`?"]


def test_strict_limits_overrides_to_keys_in_file(write, minimal):
    path = write(minimal + "strict: true\nlora_r: 8\n")
    assert load_config(path, ["--lora_r", "4"]).lora_r == 4
    with pytest.raises(ConfigError) as info:
        load_config(path, ["--seed", "1"])
    assert info.value.problems[0].startswith("`--seed`: strict: true allows overriding only keys present in the file")


def test_resolved_yaml_round_trip(write):
    cfg = load_config(write(AXOLOTL_LORA_1B), ["--learning_rate", "1e-5", "--chat_template", "chatml"])
    text = resolved_yaml(cfg)
    assert "sequence_len: 2048" in text and "seed: 42" in text  # defaults are written out
    again = load_config(write(text, "resolved.yml"))
    assert again == cfg


def test_resolved_yaml_round_trip_minimal(write, minimal):
    cfg = load_config(write(minimal))
    assert load_config(write(resolved_yaml(cfg), "resolved.yml")) == cfg
