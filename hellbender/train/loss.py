"""Causal-LM loss summed over trained tokens; callers divide by the trained-token count of the whole
accumulation window (and all ranks), so micro-batch size and accumulation do not change the update."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hellbender.data.tokenize import IGNORE_INDEX


def trained_token_count(labels: torch.Tensor) -> torch.Tensor:
    """Tokens that contribute to the loss: labels shifted by one (position t predicts t+1)."""
    return (labels[:, 1:] != IGNORE_INDEX).sum()


def token_loss_sum(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sum of next-token cross-entropy over trained positions, computed in fp32."""
    shifted_logits = logits[:, :-1, :].float()
    shifted_labels = labels[:, 1:]
    return F.cross_entropy(
        shifted_logits.reshape(-1, shifted_logits.size(-1)),
        shifted_labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )
