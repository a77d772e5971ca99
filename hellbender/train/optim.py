"""Optimizer and learning-rate schedule from the config."""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LRScheduler
from transformers import get_scheduler

from hellbender.config import Config

_SCHEDULES = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}


def build_optimizer(model: torch.nn.Module, config: Config) -> torch.optim.Optimizer:
    """AdamW over trainable parameters; biases and norm weights (1-D) get no weight decay, as is standard."""
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append(param)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    fused = config.optimizer == "adamw_torch_fused" and torch.cuda.is_available()
    return torch.optim.AdamW(
        [g for g in groups if g["params"]],
        lr=config.learning_rate,
        betas=(config.adam_beta1, config.adam_beta2),
        eps=config.adam_epsilon,
        fused=fused or None,
    )


def warmup_steps(config: Config, total_steps: int) -> int:
    if config.warmup_steps is not None:
        return config.warmup_steps
    if config.warmup_ratio is not None:
        return math.ceil(config.warmup_ratio * total_steps)
    return 0


def build_scheduler(optimizer: torch.optim.Optimizer, config: Config, total_steps: int) -> LRScheduler:
    name, extra = _SCHEDULES[config.lr_scheduler], None
    if config.cosine_min_lr_ratio is not None:
        name, extra = "cosine_with_min_lr", {"min_lr_rate": config.cosine_min_lr_ratio}
    return get_scheduler(
        name,
        optimizer,
        num_warmup_steps=warmup_steps(config, total_steps),
        num_training_steps=total_steps,
        scheduler_specific_kwargs=extra,
    )
