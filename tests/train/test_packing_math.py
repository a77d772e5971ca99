"""Packing changes nothing that is learned: per-token log-probs and the summed loss of samples inside a packed batch
equal those of the same samples run one by one (fp32, every attention implementation that can train on CPU), and
20 training steps packed follow the same loss curve as unpadded-equivalent batches of the same samples."""

from __future__ import annotations

import copy

import pytest
import torch
from accelerate import Accelerator
from transformers import AutoModelForCausalLM, AutoTokenizer

from hellbender.data.collate import PackedCollator, PadCollator
from hellbender.data.tokenize import IGNORE_INDEX
from hellbender.errors import HellbenderError
from hellbender.model.attention import check_packed_isolation
from hellbender.train.loop import forward, train_step
from hellbender.train.loss import token_loss_sum
from tests.conftest import arithmetic_chats

# flex_attention is absent on purpose: PyTorch has no flex-attention backward on CPU (it is checked on GPU).
CPU_ATTENTION = ["sdpa", "eager"]


def _rows(tokenizer, count: int) -> list[dict]:
    rows = []
    for chat in arithmetic_chats(count):
        text = tokenizer.apply_chat_template(chat["messages"], tokenize=False)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        half = len(ids) // 2
        rows.append({"input_ids": ids, "labels": [IGNORE_INDEX] * half + ids[half:]})
    return rows


def _token_logprobs(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """log p(token t+1 | tokens ≤ t) for every position of one sequence."""
    return torch.log_softmax(logits[:-1].double(), dim=-1).gather(-1, ids[1:, None])[:, 0]


def _check_packed_equals_separate(model, rows: list[dict], pad_id: int) -> None:
    bins = [rows[:3], rows[3:5]]  # two packed sequences of different lengths: the shorter one gets padding
    batch = PackedCollator(pad_id)(bins)
    with torch.no_grad():
        packed_logits = forward(model.eval(), batch)
        for b, rows_in_bin in enumerate(bins):
            start = 0
            for row in rows_in_bin:
                ids = torch.tensor(row["input_ids"])
                alone = model(input_ids=ids[None], use_cache=False).logits[0]
                inside = packed_logits[b, start : start + len(ids)]
                torch.testing.assert_close(
                    _token_logprobs(inside, ids), _token_logprobs(alone, ids), rtol=1e-5, atol=1e-5
                )
                start += len(ids)
    # the summed loss of the packed batch equals the sum of each row's own loss (first label of each row unused)
    with torch.no_grad():
        packed_loss = token_loss_sum(packed_logits, batch["labels"])
        separate = sum(
            token_loss_sum(
                model(input_ids=torch.tensor([r["input_ids"]]), use_cache=False).logits, torch.tensor([r["labels"]])
            )
            for r in rows[:5]
        )
    torch.testing.assert_close(packed_loss, separate, rtol=1e-5, atol=0)


@pytest.mark.parametrize("attention", CPU_ATTENTION)
def test_packed_logprobs_equal_separate_tiny(tiny_model_dir, smollm2_tokenizer, attention) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=attention, dtype=torch.float32)
    _check_packed_equals_separate(model, _rows(smollm2_tokenizer, 5), smollm2_tokenizer.pad_token_id)


@pytest.mark.parametrize("attention", CPU_ATTENTION)
def test_packed_logprobs_equal_separate_smollm2(smollm2_dir, attention) -> None:
    tokenizer = AutoTokenizer.from_pretrained(smollm2_dir)
    model = AutoModelForCausalLM.from_pretrained(smollm2_dir, attn_implementation=attention, dtype=torch.float32)
    _check_packed_equals_separate(model, _rows(tokenizer, 5), tokenizer.pad_token_id)


def test_twenty_steps_packed_follow_the_padded_loss_curve(tiny_model_dir, smollm2_tokenizer) -> None:
    """Same samples per step, packed into one sequence vs padded rows: same losses and the same weights."""
    rows = _rows(smollm2_tokenizer, 40)
    pad_id = smollm2_tokenizer.pad_token_id
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    curves = {}
    finals = {}
    for name, collate in (("padded", PadCollator(pad_id)), ("packed", PackedCollator(pad_id))):
        model = copy.deepcopy(base).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        curve = []
        for step in range(20):
            chunk = rows[(2 * step) % 40 : (2 * step) % 40 + 2]
            batch = collate([chunk] if name == "packed" else chunk)
            loss, _ = train_step(model, [batch], Accelerator(cpu=True))
            optimizer.step()
            optimizer.zero_grad()
            curve.append(loss)
        curves[name], finals[name] = curve, model.state_dict()
    torch.testing.assert_close(torch.tensor(curves["packed"]), torch.tensor(curves["padded"]), rtol=1e-4, atol=0)
    for key, value in finals["padded"].items():
        torch.testing.assert_close(finals["packed"][key], value, rtol=1e-3, atol=1e-5)


class _LeakyAttention(torch.nn.Module):
    """A model that ignores position_ids, like a kernel without packed-sequence support: every token sees all before."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        self.config = model.config

    def get_input_embeddings(self) -> torch.nn.Module:
        return self.model.get_input_embeddings()

    def forward(self, input_ids, position_ids=None, **kwargs):
        return self.model(input_ids=input_ids, **kwargs)


def test_isolation_probe_accepts_real_and_rejects_leaky_attention(tiny_model_dir, smollm2_tokenizer) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="sdpa")
    check_packed_isolation(model, smollm2_tokenizer.pad_token_id)
    with pytest.raises(HellbenderError) as info:
        check_packed_isolation(_LeakyAttention(model), smollm2_tokenizer.pad_token_id)
    assert "lets packed samples attend to each other" in str(info.value)
    assert "sdp_attention: true" in info.value.hint and "sample_packing: false" in info.value.hint
