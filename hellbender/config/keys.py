"""Sort the keys of a raw config before typed validation: implemented, known-but-unsupported, hint, or unknown.

Why a separate pass: pydantic's `extra="forbid"` can only say "extra field"; a user coming from Axolotl needs to hear
*which kind* of extra it is — a typo (did you mean ...?), a real Axolotl option we do not implement yet, or a pure
speed/memory hint that changes nothing about what is learned (a warning, not an error). An empty value
(`wandb_project:`) means "unset" and passes quietly, as Axolotl's own example configs rely on.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from importlib import resources
from typing import Any

# Pure speed/memory hints: they never change what is learned, only how fast or in how much memory. Hellbender picks
# its own kernels and loader settings, so these are ignored with a one-line warning instead of failing the file.
PERF_HINTS = frozenset(
    {
        "xformers_attention",
        "attn_implementation",
        "flex_attn_compile_kwargs",
        "flash_attn_cross_entropy",
        "flash_attn_rms_norm",
        "flash_attn_fuse_mlp",
        "flash_optimum",
        "torch_compile",
        "torch_compile_backend",
        "torch_compile_mode",
        "torch_compile_options",
        "pad_to_multiple_of",
        "dataloader_num_workers",
        "dataloader_pin_memory",
        "dataloader_prefetch_factor",
        "low_cpu_mem_usage",
        "use_kernels",
        "lora_mlp_kernel",
        "lora_qkv_kernel",
        "lora_o_kernel",
        "lora_embedding_kernel",
        "chunked_cross_entropy",
        "chunked_cross_entropy_num_chunks",
        "tiled_mlp",
        "tiled_mlp_num_shards",
        "tiled_mlp_use_original_mlp",
        "activation_offloading",
        "gradient_checkpointing_kwargs",
        "gc_steps",
        "gc_collect_steps",
        "torch_empty_cache_steps",
        "dataset_num_proc",
        "dataset_keep_in_memory",
        "ddp_bucket_cap_mb",
    }
)

# Known keys where `false` is Axolotl's default (the feature is off), so `load_in_8bit: false` asks for nothing
# Hellbender does not already do and passes like an empty value. Keys whose Axolotl default is true (e.g.
# `save_safetensors`, `shuffle_merged_datasets`) are deliberately absent: `false` there changes behaviour.
OFF_BY_DEFAULT = frozenset(
    {
        "load_in_8bit",
        "load_in_4bit",
        "gptq",
        "sample_packing",
        "eval_sample_packing",
        "sample_packing_sequentially",
        "lora_fan_in_fan_out",
        "lora_on_cpu",
        "merge_lora",
        "relora",
        "use_wandb",
        "use_mlflow",
        "use_comet",
        "use_tensorboard",
        "use_trackio",
        "use_ray",
        "use_otel_metrics",
        "deepspeed",
        "fsdp",
        "fp8",
        "qat",
        "streaming",
        "is_preprocess",
        "skip_prepare_dataset",
        "push_dataset_to_hub",
        "load_best_model_at_end",
        "save_first_step",
        "save_only_model",
        "debug",
        "float16",
        "bfloat16",
        "is_llama_derived_model",
        "is_mistral_derived_model",
        "is_falcon_derived_model",
        "is_qwen_derived_model",
        "do_bench_eval",
        "do_causal_lm_eval",
        "reward_model",
        "process_reward_model",
        "unfrozen_parameters",
        "use_pose",
        "fix_untrained_tokens",
        "resize_token_embeddings_to_32x",
        "shrink_embeddings",
        "embeddings_skip_upcast",
        "neftune_noise_alpha",
        "noisy_embedding_alpha",
        "dataset_exact_deduplication",
        "include_tokens_per_second",
        "include_tkps",
        "tokenizer_legacy",
        "tokenizer_use_mistral_common",
        # per-dataset flags
        "drop_system_message",
        "split_thinking",
        "trust_remote_code",
        "preprocess_shards",
    }
)

# Keys that are not in Axolotl's schema but appear (empty) in its example configs: `debug` is a CLI flag there.
EXTRA_KNOWN = frozenset({"debug"})

# Per-dataset keys Axolotl knows that are missing from the [per-dataset] section of axolotl_keys.txt (older prompt
# styles and options that live on other dataset classes).
EXTRA_DATASET_KEYS = frozenset(
    {
        "field_system",
        "field_instruction",
        "field_input",
        "field_output",
        "roles",
        "split_thinking",
        "train_on_split",
        "system_prompt",
        "system_format",
        "format",
        "no_input_format",
        "field_human",
        "field_model",
        "temperature",
    }
)


# Hellbender's own keys, for what Axolotl has no key for: what to do with malformed rows, and mixing datasets by ratio.
HELLBENDER_KEYS = frozenset({"invalid_rows"})
HELLBENDER_DATASET_KEYS = frozenset({"sampling_ratio"})


@functools.lru_cache(maxsize=1)
def axolotl_keys() -> tuple[frozenset[str], frozenset[str]]:
    """Return (top-level keys, per-dataset keys) that Axolotl knows, read from the packaged axolotl_keys.txt."""
    text = resources.files("hellbender.config").joinpath("axolotl_keys.txt").read_text(encoding="utf-8")
    top: set[str] = set()
    per_dataset: set[str] = set()
    target = top
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            target = per_dataset if line.startswith("[per-dataset") else top
            continue
        target.add(line)
    return frozenset(top | EXTRA_KNOWN), frozenset(per_dataset | EXTRA_DATASET_KEYS)


def is_unset(key: str, value: Any) -> bool:
    """True when a value means "not set": null, empty string/list/mapping, or `false` for an off-by-default flag
    (performance hints included: `false` there turns an optimization off, which is what ignoring it does)."""
    if value is None or value == "" or value == [] or value == {}:
        return True
    return value is False and (key in OFF_BY_DEFAULT or key in PERF_HINTS)


def did_you_mean(key: str, candidates: Iterable[str]) -> str:
    """A '; did you mean `x`?' suffix for the closest candidate, or '' when nothing is close."""
    close = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.75)
    return f"; did you mean `{close[0]}`?" if close else ""


def sort_top_level(raw: dict[str, Any], implemented: set[str]) -> tuple[dict[str, Any], list[str], list[str]]:
    """Split a raw top-level mapping into (values to validate, problems, warnings).

    Implemented keys with an unset value are dropped so the field's default applies (`fp16:` means "default").
    """
    known, _ = axolotl_keys()
    kept: dict[str, Any] = {}
    problems: list[str] = []
    hints: list[str] = []
    for key, value in raw.items():
        key = str(key)
        if key in implemented:
            if value is not None:
                kept[key] = value
        elif key in known or key in PERF_HINTS:
            if is_unset(key, value):
                continue
            if key in PERF_HINTS:
                hints.append(
                    f"`{key}`: performance hint ignored; Hellbender chooses kernels and loader settings itself"
                )
            else:
                problems.append(
                    f"`{key}`: known Axolotl key, not supported by Hellbender yet; remove it or leave it empty"
                )
        else:
            problems.append(f"`{key}`: unknown key{did_you_mean(key, implemented | known)}")
    return kept, problems, hints


def sort_dataset_keys(index: int, raw: dict[str, Any], implemented: set[str]) -> tuple[dict[str, Any], list[str]]:
    """Split one `datasets[i]` mapping into (values to validate, problems); same rules as the top level."""
    _, known = axolotl_keys()
    kept: dict[str, Any] = {}
    problems: list[str] = []
    where = f"datasets[{index}]"
    for key, value in raw.items():
        key = str(key)
        if key in implemented:
            if value is not None:
                kept[key] = value
        elif key in known:
            if not is_unset(key, value):
                problems.append(f"`{where}.{key}`: known Axolotl key, not supported by Hellbender yet")
        else:
            problems.append(f"`{where}.{key}`: unknown key{did_you_mean(key, implemented | known)}")
    return kept, problems
