"""Tokenization speed of the preprocess path against a naive per-row baseline, measured in the same run.

Ours: `datasets.map` (batched) over the format + one fast-tokenizer call per batch + labels from character offsets
(`hellbender.data.encode.make_encoder`, the code `preprocess` runs). Naive: one tokenizer call per row; for chat,
the conversation prefix is rendered and tokenized before and after every assistant turn to find its trained span
(quadratic in turns). Both must give the same labels; the JSON says for how many rows they do.

    .venv/bin/python bench/preprocess.py [--rows 2000] [--chat-rows 400] [--out bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")

import datasets
from transformers import AutoTokenizer

from hellbender.config import DatasetConfig
from hellbender.data.encode import make_encoder
from hellbender.data.formats import get_format
from hellbender.data.formats.alpaca import alpaca_prompt
from hellbender.data.formats.base import FormatContext
from hellbender.data.pipeline import bos_text
from hellbender.data.tokenize import IGNORE_INDEX
from hellbender.model.default_model import ensure_default_model

TURN_SWEEP = (2, 5, 10, 20, 40)
LIMIT = 1 << 20  # no truncation in the benchmark


def alpaca_rows(count: int) -> list[dict[str, str]]:
    return [
        {"instruction": f"Rewrite sentence {i} in the passive voice.", "input": f"The cat {i} chased mice.",
         "output": f"Mice were chased by cat {i}."}
        for i in range(count)
    ]  # fmt: skip


def chat_rows(count: int, turns: int) -> list[dict[str, Any]]:
    """Conversations of `turns` messages (user/assistant alternating, so turns // 2 trained answers)."""
    return [
        {
            "messages": [
                {"role": "user" if t % 2 == 0 else "assistant", "content": f"Message {t} of chat {i}: some words."}
                for t in range(turns)
            ]
        }
        for i in range(count)
    ]


def ours(rows: list[dict[str, Any]], kind: str, tokenizer) -> tuple[float, list[list[int]]]:
    ds = DatasetConfig(path="bench", type=kind)
    ctx = FormatContext(
        tokenizer=tokenizer,
        dataset=ds,
        chat_template=tokenizer.chat_template if kind == "chat_template" else None,
        bos_text=bos_text(tokenizer),
    )
    encode = make_encoder(get_format(kind), ctx, tokenizer, LIMIT, all_eval=False)
    raw = datasets.Dataset.from_list(rows)
    start = time.perf_counter()
    out = raw.map(encode, batched=True, with_indices=True, remove_columns=raw.column_names)
    labels = out["labels"]  # materialized inside the timing, as the pipeline reads its columns
    return time.perf_counter() - start, list(labels)


def naive_alpaca(rows: list[dict[str, str]], tokenizer) -> tuple[float, list[list[int]]]:
    start, labels = time.perf_counter(), []
    bos, eos = bos_text(tokenizer), tokenizer.eos_token
    for row in rows:
        prompt = bos + alpaca_prompt(row["instruction"], row["input"])
        ids = tokenizer(prompt + row["output"] + eos, add_special_tokens=False)["input_ids"]
        cut = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        labels.append([IGNORE_INDEX] * cut + ids[cut:])
    return time.perf_counter() - start, labels


def naive_chat(rows: list[dict[str, Any]], tokenizer) -> tuple[float, list[list[int]]]:
    """Per assistant turn: tokens of the prefix with the generation prompt (span start) and of the prefix through
    the turn's end-of-turn token (span end), as Axolotl's chat_template strategy does."""
    start, labels = time.perf_counter(), []

    def count(messages: list[dict[str, str]], prompt: bool) -> int:
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=prompt)
        return len(tokenizer(text.rstrip("\n") if not prompt else text, add_special_tokens=False)["input_ids"])

    for row in rows:
        messages = row["messages"]
        text = tokenizer.apply_chat_template(messages, tokenize=False)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        row_labels = [IGNORE_INDEX] * len(ids)
        for turn, message in enumerate(messages):
            if message["role"] == "assistant":
                begin, end = count(messages[:turn], True), count(messages[: turn + 1], False)
                row_labels[begin:end] = ids[begin:end]
        labels.append(row_labels)
    return time.perf_counter() - start, labels


def compare(name: str, rows: list[dict[str, Any]], kind: str, naive, tokenizer, turns: int = 1) -> dict[str, Any]:
    ours(rows[:8], kind, tokenizer), naive(rows[:8], tokenizer)  # warm-up: template compilation, first-call costs
    ours_s, ours_labels = ours(rows, kind, tokenizer)
    naive_s, naive_labels = naive(rows, tokenizer)
    tokens = sum(len(labels) for labels in ours_labels)
    return {
        "case": name,
        "rows": len(rows),
        "tokens": tokens,
        "ours_tokens_per_s": round(tokens / ours_s),
        "naive_tokens_per_s": round(tokens / naive_s),
        "speedup": round(naive_s / ours_s, 2),
        # per conversation turn: flat as turns grow = linear time (ours); rising = quadratic (naive)
        "ours_us_per_turn": round(1e6 * ours_s / len(rows) / turns, 1),
        "naive_us_per_turn": round(1e6 * naive_s / len(rows) / turns, 1),
        "rows_with_equal_labels": sum(a == b for a, b in zip(ours_labels, naive_labels)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2000, help="alpaca rows")
    parser.add_argument("--chat-rows", type=int, default=400, help="chat rows per turn count")
    parser.add_argument("--out", help="write the JSON here instead of stdout")
    args = parser.parse_args()
    datasets.disable_progress_bars()
    tokenizer = AutoTokenizer.from_pretrained(ensure_default_model())
    results = [compare("alpaca", alpaca_rows(args.rows), "alpaca", naive_alpaca, tokenizer)]
    for turns in TURN_SWEEP:
        rows = chat_rows(args.chat_rows, turns)
        results.append(compare(f"chat-{turns}-turns", rows, "chat_template", naive_chat, tokenizer, turns))
    report = {"tokenizer": "SmolLM2-135M-Instruct", "cpu_count": os.cpu_count(), "results": results}
    text = json.dumps(report, indent=2)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
