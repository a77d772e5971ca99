"""Which attention implementation a run uses, and proof that it keeps packed samples apart.

The config may name one (`flash_attention`, `sdp_attention`, `flex_attention`, `eager_attention`); otherwise
Hellbender picks FlashAttention 2 on a CUDA GPU in half precision when `flash-attn` is installed (varlen kernels: no
compute spent across sample boundaries) and leaves the model's default (sdpa where supported) everywhere else.

Isolation of packed samples is not assumed from the name: `check_packed_isolation` runs the model on two packings
that differ only in the first sample and requires the second sample's logits to be unchanged. This catches any
architecture or kernel that ignores restarting `position_ids` (remote-code models, kernels without varlen support).
"""

from __future__ import annotations

import importlib.util

import torch

from hellbender.config import Config
from hellbender.data.collate import PackedCollator
from hellbender.errors import HellbenderError

_EXPLICIT = {
    "flash_attention": "flash_attention_2",
    "sdp_attention": "sdpa",
    "flex_attention": "flex_attention",
    "eager_attention": "eager",
}
# Implementations that need the whole batch as one sequence to see packed boundaries (varlen from position_ids).
FLATTENED = frozenset({"flash_attention_2", "flash_attention_3"})


def _flash_attn_installed() -> bool:
    return importlib.util.find_spec("flash_attn") is not None


def select_attention(config: Config, dtype: torch.dtype) -> str | None:
    """The `attn_implementation` to load the model with; None = the model's own default."""
    named = [impl for key, impl in _EXPLICIT.items() if getattr(config, key)]
    cuda = torch.cuda.is_available()
    if named:
        impl = named[0]
        if impl == "flash_attention_2" and not (cuda and _flash_attn_installed()):
            raise HellbenderError(
                "flash_attention: true needs a CUDA GPU and the flash-attn package"
                + ("" if cuda else " (this machine has no CUDA GPU)."),
                hint="pip install flash-attn (on a CUDA machine), or set sdp_attention: true instead.",
            )
        if impl == "flex_attention" and not cuda:
            raise HellbenderError(
                "flex_attention: true needs a CUDA GPU for training (PyTorch has no flex-attention backward on CPU).",
                hint="set sdp_attention: true (or remove flex_attention) on this machine.",
            )
        return impl
    if cuda and dtype in (torch.bfloat16, torch.float16) and _flash_attn_installed():
        return "flash_attention_2"
    return None


@torch.no_grad()
def check_packed_isolation(model: torch.nn.Module, pad_token_id: int) -> None:
    """Fail clearly unless the model's attention keeps packed samples from attending to each other.

    Runs two packed sequences [A, B] and [A', B] (A' ≠ A, same length) and compares B's logits: with isolation they
    are computed from B alone, so they match to rounding; any leak changes them by far more.
    """
    impl = getattr(model.config, "_attn_implementation", None) or "default"
    device = next(model.parameters()).device
    vocab = model.get_input_embeddings().num_embeddings
    first, other, second = ([(start + 7 * i) % vocab for i in range(6)] for start in (11, 23, 37))
    collate = PackedCollator(pad_token_id, flatten=impl in FLATTENED)
    logits = []
    was_training = model.training
    model.eval()
    try:
        for lead in (first, other):
            batch = collate([[{"input_ids": lead, "labels": lead}, {"input_ids": second, "labels": second}]])
            out = model(
                input_ids=batch["input_ids"].to(device), position_ids=batch["position_ids"].to(device), use_cache=False
            )
            logits.append(out.logits[0, len(lead) : len(lead) + len(second)].float())
    finally:
        model.train(was_training)
    change = (logits[0] - logits[1]).abs().max().item()
    scale = logits[0].abs().max().item() or 1.0
    if change > 1e-3 * scale:
        raise HellbenderError(
            f"sample_packing: the model's attention implementation `{impl}` lets packed samples attend to each other "
            f"(a sample's logits changed by {change:.3g} when the sample before it changed), so packing would leak "
            "between samples.",
            hint="set sdp_attention: true or eager_attention: true (or flash_attention: true on a CUDA GPU with "
            "flash-attn), or set sample_packing: false.",
        )
