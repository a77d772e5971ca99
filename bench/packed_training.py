"""Training throughput with and without sample packing, per attention implementation, in one run.

Measures real (non-padding) tokens per second and peak accelerator memory of full fine-tuning steps through
Hellbender's own loader, collators and `train_step`, on a randomly initialised Llama with SmolLM2-135M's shape
(`--model tiny` for a quick CPU run). The baseline is the same rows batched unpacked, padded to the longest row of
each batch, measured in the same process. Row lengths: seeded log-normal (median `--median` tokens, sigma 0.9),
clipped to [16, sequence_len], a stand-in for tokenized instruction data.

    python bench/packed_training.py --out packed_training.json            # GPU: bf16, sdpa and flex_attention
    python bench/packed_training.py --model tiny --steps 4 --attention sdpa   # CPU smoke run
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import datasets
import numpy as np
import torch
from accelerate import Accelerator
from transformers import LlamaConfig, LlamaForCausalLM

from hellbender.data.collate import PackedCollator, PadCollator
from hellbender.data.loader import BatchLoader, BatchPlan
from hellbender.model.attention import FLATTENED, check_packed_isolation
from hellbender.train.loop import train_step

SHAPES = {
    "smollm2-135m": {
        "hidden_size": 576,
        "intermediate_size": 1536,
        "num_hidden_layers": 30,
        "num_attention_heads": 9,
        "num_key_value_heads": 3,
    },
    "tiny": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
    },
}
VOCAB = 49152


def _rows(count: int, sequence_len: int, median: float, seed: int) -> datasets.Dataset:
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(np.log(median), 0.9, count).astype(int), 16, sequence_len)
    ids = [rng.integers(3, VOCAB, n).tolist() for n in lengths]
    labels = [[-100] * (len(x) // 2) + x[len(x) // 2 :] for x in ids]
    return datasets.Dataset.from_dict({"input_ids": ids, "labels": labels})


def _measure(model, loader: BatchLoader, steps: int, device: torch.device) -> dict:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    accelerator = Accelerator(cpu=device.type == "cpu")
    batches = iter(loader)
    tokens = 0
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for step in range(steps + 2):  # two warm-up steps (kernel selection, compilation, allocator)
        if step == 2:
            sync()
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            started, tokens = time.perf_counter(), 0
        batch = next(batches)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            train_step(model, [batch], accelerator)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += int(batch["num_tokens"])
    sync()
    elapsed = time.perf_counter() - started
    return {
        "tokens_per_s": round(tokens / elapsed, 1),
        "seconds": round(elapsed, 3),
        "real_tokens": tokens,
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.type == "cuda" else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(SHAPES), default="smollm2-135m")
    parser.add_argument("--sequence-len", type=int, default=2048)
    parser.add_argument("--median", type=float, default=180)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--padded-batch", type=int, default=8, help="rows per unpacked batch (the baseline)")
    parser.add_argument("--packed-batch", type=int, default=2, help="bins of sequence_len per packed batch")
    parser.add_argument("--attention", nargs="+", default=None, help="default: sdpa eager, plus flex_attention on GPU")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out")
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    attention = args.attention or (["sdpa", "flex_attention", "eager"] if device.type == "cuda" else ["sdpa", "eager"])
    data = _rows(args.rows, args.sequence_len, args.median, args.seed)
    config = LlamaConfig(vocab_size=VOCAB, max_position_embeddings=args.sequence_len, **SHAPES[args.model])
    results = []
    for impl in attention:
        for packing in (False, True):
            torch.manual_seed(0)
            model = LlamaForCausalLM._from_config(config, attn_implementation=impl).to(device)
            if packing:
                check_packed_isolation(model, pad_token_id=2)
            collate = PackedCollator(2, flatten=impl in FLATTENED) if packing else PadCollator(2)
            plan = BatchPlan(
                batch_size=args.packed_batch if packing else args.padded_batch,
                sequence_len=args.sequence_len,
                packing=packing,
                seed=args.seed,
            )
            loader = BatchLoader(data, plan, collate, device=device)
            row = {"attention": impl, "packing": packing, "batch": plan.batch_size}
            row.update(_measure(model.train(), loader, args.steps, device))
            print(json.dumps(row), file=sys.stderr)
            results.append(row)
            del model
            if device.type == "cuda":
                torch.cuda.empty_cache()
    report = {
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "model": args.model,
        "sequence_len": args.sequence_len,
        "length_distribution": f"lognormal(median={args.median}, sigma=0.9) clipped to [16, {args.sequence_len}]",
        "results": results,
    }
    text = json.dumps(report, indent=2)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
