"""Schema and key-sorting rules: documented fields, unknown/known/empty keys, hints, typed errors."""

from __future__ import annotations

import logging

import pytest

from hellbender.config import Config, DatasetConfig, load_config
from hellbender.config.keys import HELLBENDER_DATASET_KEYS, HELLBENDER_KEYS, PERF_HINTS, axolotl_keys
from hellbender.errors import ConfigError


def _problems(write, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(text))
    return info.value.problems


def test_minimal_config_gets_defaults(write, minimal):
    cfg = load_config(write(minimal))
    assert cfg.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert cfg.datasets == [DatasetConfig(path="data/train.jsonl", type="alpaca")]
    assert cfg.sequence_len == 2048 and cfg.bf16 == "auto" and cfg.adapter is None
    assert cfg.datasets[0].split == "train" and cfg.optimizer == "adamw_torch"


@pytest.mark.parametrize("model", [Config, DatasetConfig])
def test_every_field_is_documented(model):
    for name, field in model.model_fields.items():
        assert field.description and len(field.description) > 15, name
    assert model.model_config["extra"] == "forbid"


def test_implemented_fields_are_axolotl_keys():
    top, per_dataset = axolotl_keys()
    # Axolotl reads `model_type` through an alias (its field is `type_of_model`), so the name is not in the list.
    assert set(Config.model_fields) - {"model_type"} - HELLBENDER_KEYS <= top
    assert set(DatasetConfig.model_fields) - HELLBENDER_DATASET_KEYS <= per_dataset
    assert "path" not in top  # the per-dataset section is not mixed into the top level


def test_unknown_key_suggests_closest(write, minimal):
    problems = _problems(write, minimal + "learnig_rate: 1e-4\n")
    assert problems == ["`learnig_rate`: unknown key; did you mean `learning_rate`?"]


def test_unknown_key_without_close_match(write, minimal):
    (problem,) = _problems(write, minimal + "zzz_qqq: 1\n")
    assert problem == "`zzz_qqq`: unknown key"


def test_known_unsupported_key(write, minimal):
    (problem,) = _problems(write, minimal + "wandb_project: my-run\n")
    assert problem == "`wandb_project`: known Axolotl key, not supported by Hellbender yet; remove it or leave it empty"


def test_empty_known_keys_pass_quietly(write, minimal, caplog):
    text = minimal + "wandb_project:\ndeepspeed:\nfsdp_config: {}\nload_in_8bit: false\nfp16:\ndebug:\n"
    with caplog.at_level(logging.WARNING, logger="hellbender.config"):
        cfg = load_config(write(text))
    assert cfg.fp16 is False
    assert caplog.records == []


def test_false_is_not_unset_when_it_changes_behaviour(write, minimal):
    (problem,) = _problems(write, minimal + "save_safetensors: false\n")
    assert problem.startswith("`save_safetensors`: false is not supported by Hellbender yet")
    (problem,) = _problems(write, minimal + "sample_packing_sequentially: true\n")
    assert problem.startswith("`sample_packing_sequentially`: known Axolotl key")


def test_axolotl_training_extras_validate(write, minimal):
    config = load_config(
        write(
            minimal + "adam_beta2: 0.95\nadam_epsilon: 1.0e-5\ncosine_min_lr_ratio: 0.1\n"
            "loss_watchdog_threshold: 5.0\nsave_total_limit: 2\neval_steps: 0.25\n"
            "lora_modules_to_save: lm_head\n"
        )
    )
    assert (config.adam_beta2, config.cosine_min_lr_ratio, config.lora_modules_to_save) == (0.95, 0.1, ["lm_head"])
    problems = _problems(
        write,
        minimal + "evals_per_epoch: 2\neval_steps: 10\nlr_scheduler: linear\n"
        "cosine_min_lr_ratio: 0.1\nearly_stopping_patience: 2\n",
    )
    assert len(problems) == 3 and any("both set" in p for p in problems)


def test_perf_hint_warns_and_is_ignored(write, minimal, caplog):
    with caplog.at_level(logging.WARNING, logger="hellbender.config"):
        load_config(write(minimal + "torch_compile: true\ndataloader_num_workers: 4\n"))
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "`torch_compile`: performance hint ignored" in messages[0]


def test_perf_hints_are_axolotl_keys():
    top, _ = axolotl_keys()
    assert PERF_HINTS <= top


def test_wrong_types_in_plain_words(write, minimal):
    text = minimal + "lora_r: abc\nlr_scheduler: cosine\nexcess_length_strategy: cut\ntrain_on_inputs: maybe\n"
    problems = _problems(write, text)
    assert "`lora_r`: expected an integer, got 'abc'" in problems
    assert "`excess_length_strategy`: expected one of: drop, truncate; got 'cut'" in problems
    assert "`train_on_inputs`: expected true or false, got 'maybe'" in problems


def test_all_problems_reported_at_once(write):
    text = """\
    base_model: m
    learnig_rate: 1e-4
    wandb_project: p
    sequence_len: -5
    datasets:
      - type: alpaca
        train_on_eot: turn
        feild_messages: messages
    """
    with pytest.raises(ConfigError) as info:
        load_config(write(text))
    problems = info.value.problems
    assert len(problems) == 6, problems
    assert "`datasets[0].path`: required, but missing" in problems
    assert "`sequence_len`: expected a number > 0, got -5" in problems
    assert "`datasets[0].train_on_eot`: known Axolotl key, not supported by Hellbender yet" in problems
    assert "`datasets[0].feild_messages`: unknown key; did you mean `field_messages`?" in problems
    assert "6 config problems" in str(info.value)


def test_empty_dataset_key_passes(write, minimal):
    cfg = load_config(write(minimal + "    train_on_eot:\n    shards:\n"))
    assert cfg.datasets[0].path == "data/train.jsonl"


def test_missing_required(write):
    problems = _problems(write, "learning_rate: 0.1\n")
    assert problems == ["`base_model`: required, but missing", "`datasets`: required, but missing"]


def test_empty_datasets_list(write):
    (problem,) = _problems(write, "base_model: m\ndatasets: [x]\n")
    assert problem.startswith("`datasets[0]`: expected a mapping")
    (problem,) = _problems(write, "base_model: m\ndatasets: {path: a}\n")
    assert problem.startswith("`datasets`: expected a list")


def test_unknown_prompt_format_lists_valid_names(write):
    (problem,) = _problems(write, "base_model: m\ndatasets:\n  - path: a\n    type: alpacca\n")
    assert problem.startswith("`datasets[0].type`: unknown prompt format 'alpacca'; expected one of: ")
    assert "alpaca" in problem and "did you mean 'alpaca'" in problem


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("adapter: qlora", "`adapter`: adapter 'qlora' is not supported by Hellbender yet"),
        ("optimizer: paged_adamw_8bit", "known to Axolotl but not supported by Hellbender yet; supported: adamw_torch"),
        ("optimizer: adamw_torh", "unknown optimizer 'adamw_torh'; supported: adamw_torch, adamw_torch_fused"),
        ("lr_scheduler: one_cycle", "`lr_scheduler`: lr_scheduler 'one_cycle' is known to Axolotl but not supported"),
        ("chat_template: llama4", "`chat_template`: chat template 'llama4' is known to Axolotl but not supported"),
        ("bf16: yes please", "`bf16`: expected true, false or auto, got 'yes please'"),
        ("special_tokens: {sep_token: x}", "unknown special token(s) sep_token"),
        ("val_set_size: -1", "`val_set_size`: expected a number >= 0, got -1"),
    ],
)
def test_not_supported_and_bad_choices(write, minimal, line, needle):
    (problem,) = _problems(write, minimal + line + "\n")
    assert needle in problem


@pytest.mark.parametrize(
    ("lines", "needle"),
    [
        ("bf16: true\nfp16: true", "`fp16`: bf16 and fp16 are both true"),
        ("warmup_steps: 10\nwarmup_ratio: 0.1", "`warmup_ratio`: warmup_steps and warmup_ratio are both set"),
        ("chat_template: chatml\nchat_template_jinja: '{{ x }}'", "`chat_template_jinja`: set together with"),
        ("chat_template: jinja", "`chat_template`: 'jinja' needs the template itself"),
    ],
)
def test_cross_field_checks(write, minimal, lines, needle):
    (problem,) = _problems(write, minimal + lines + "\n")
    assert problem.startswith(needle)


def test_two_cross_field_problems_are_two_lines(write, minimal):
    problems = _problems(write, minimal + "bf16: true\nfp16: true\nwarmup_steps: 1\nwarmup_ratio: 0.5\n")
    assert len(problems) == 2


def test_single_strings_become_lists(write):
    text = "base_model: m\nlora_target_modules: q_proj\ndatasets:\n  - path: d\n    data_files: a.jsonl\n"
    cfg = load_config(write(text))
    assert cfg.lora_target_modules == ["q_proj"]
    assert cfg.datasets[0].data_files == ["a.jsonl"]


def test_jinja_template_accepted(write, minimal):
    cfg = load_config(write(minimal + "chat_template: jinja\nchat_template_jinja: '{{ messages }}'\n"))
    assert cfg.chat_template_jinja == "{{ messages }}"


def test_yaml_exponent_is_a_float(write, minimal):
    assert load_config(write(minimal + "learning_rate: 2e-4\n")).learning_rate == 2e-4


def test_cross_field_problems_reported_with_field_errors(write, minimal):
    problems = _problems(write, minimal + "bf16: true\nfp16: true\nlora_r: x\n")
    assert problems == [
        "`lora_r`: expected an integer, got 'x'",
        "`fp16`: bf16 and fp16 are both true; pick one mixed precision",
    ]
