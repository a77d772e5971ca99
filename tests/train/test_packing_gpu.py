"""On a CUDA GPU: packed samples stay isolated under every attention implementation available there (sdpa, flex
attention, flash attention when flash-attn is installed), forward and backward. Skipped without CUDA."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from hellbender.data.collate import PackedCollator
from hellbender.model.attention import FLATTENED, check_packed_isolation
from hellbender.train.loop import forward
from hellbender.train.loss import token_loss_sum

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

IMPLEMENTATIONS = ["sdpa", "eager", "flex_attention"] + (
    ["flash_attention_2"] if importlib.util.find_spec("flash_attn") else []
)


def _model(impl: str, dtype: torch.dtype) -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=512,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
    )
    torch.manual_seed(0)
    return LlamaForCausalLM._from_config(config, attn_implementation=impl, dtype=dtype).cuda()


def _rows() -> list[dict]:
    generator = torch.Generator().manual_seed(1)
    rows = []
    for length in (37, 5, 120, 64, 1, 90):
        ids = torch.randint(3, 512, (length,), generator=generator).tolist()
        rows.append({"input_ids": ids, "labels": ids})
    return rows


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_packed_logprobs_equal_separate_on_gpu(impl: str) -> None:
    dtype = torch.bfloat16 if impl in FLATTENED else torch.float32  # flash kernels have no fp32
    model = _model(impl, dtype)
    check_packed_isolation(model, pad_token_id=0)
    rows = _rows()
    bins = [rows[:3], rows[3:]]
    batch = {k: v.cuda() for k, v in PackedCollator(0, flatten=impl in FLATTENED)(bins).items()}
    logits = forward(model.train(), batch)
    packed_loss = token_loss_sum(logits, batch["labels"])
    packed_loss.backward()  # the backward pass exists and runs for this implementation
    separate = []
    with torch.no_grad():
        for row in rows:
            ids = torch.tensor([row["input_ids"]], device="cuda")
            separate.append(model(input_ids=ids, use_cache=False).logits[0].float())
    flat = logits.float().reshape(-1, logits.size(-1)) if impl in FLATTENED else None
    tolerance = {"rtol": 2e-2, "atol": 2e-2} if dtype == torch.bfloat16 else {"rtol": 1e-4, "atol": 1e-4}
    start_of = 0
    for b, rows_in_bin in enumerate(bins):
        start = 0
        for row in rows_in_bin:
            n = len(row["input_ids"])
            inside = flat[start_of : start_of + n] if flat is not None else logits[b, start : start + n].float()
            torch.testing.assert_close(inside.detach(), separate[rows.index(row)], **tolerance)
            start += n
            start_of += n
