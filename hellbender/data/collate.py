"""Batching: rows (or packed bins of rows) → padded tensors for the model.

Unpacked rows are right-padded with an attention mask. Packed bins carry no attention mask at all: `position_ids`
restart at 0 for every row, which is how transformers knows where a row starts (it builds a block-causal mask for
sdpa/eager/flex, or varlen boundaries for flash attention; DESIGN.md decision 4). Padding after the last row of a bin
is laid out as one more short sequence of its own (positions 0..k-1, labels -100), so it attends to nothing real.

Both return `num_tokens` (real tokens, padding excluded) for throughput counters. An empty list (a process with no
rows left at the end of an epoch) becomes one padding token with nothing to train.
"""

from __future__ import annotations

from typing import Any

import torch

from hellbender.data.tokenize import IGNORE_INDEX


class PadCollator:
    """Pads each batch to its longest row, or to `pad_to` (pad id value never matters: padded positions are masked)."""

    def __init__(self, pad_token_id: int, pad_to: int | None = None) -> None:
        self.pad_token_id = pad_token_id
        self.pad_to = pad_to

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        real = sum(len(row["input_ids"]) for row in rows)
        rows = rows or [{"input_ids": [self.pad_token_id], "labels": [IGNORE_INDEX]}]
        longest = max([len(row["input_ids"]) for row in rows] + [self.pad_to or 0])
        input_ids = torch.full((len(rows), longest), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(rows), longest), IGNORE_INDEX, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), longest), dtype=torch.long)
        for i, row in enumerate(rows):
            n = len(row["input_ids"])
            input_ids[i, :n] = torch.as_tensor(row["input_ids"])
            labels[i, :n] = torch.as_tensor(row["labels"])
            attention_mask[i, :n] = 1
        return {
            "input_ids": input_ids,
            "labels": labels,
            "attention_mask": attention_mask,
            "num_tokens": torch.tensor(real),
        }


class PackedCollator:
    """Lays out bins (each a list of rows) as packed sequences with restarting `position_ids`.

    The first label of every row is masked: in a packed sequence the position before it is the previous row's last
    token, which must not learn to predict the next row's first token (unpacked, that label is never used either,
    so packed and unpacked losses count exactly the same tokens).

    `flatten` puts the whole batch in one sequence (batch size 1), which flash attention's varlen path needs: it
    only reads boundaries from `position_ids` when the batch has a single row.
    """

    def __init__(self, pad_token_id: int, pad_to: int | None = None, flatten: bool = False) -> None:
        self.pad_token_id = pad_token_id
        self.pad_to = pad_to
        self.flatten = flatten

    def _lay_out(self, rows: list[dict[str, Any]]) -> tuple[list[int], list[int], list[int]]:
        ids: list[int] = []
        labels: list[int] = []
        positions: list[int] = []
        for row in rows:
            n = len(row["input_ids"])
            ids += row["input_ids"]
            labels += [IGNORE_INDEX, *row["labels"][1:]]
            positions += range(n)
        return ids, labels, positions

    def __call__(self, bins: list[list[dict[str, Any]]]) -> dict[str, torch.Tensor]:
        laid_out = [self._lay_out(rows) for rows in bins] or [([self.pad_token_id], [IGNORE_INDEX], [0])]
        real = sum(len(row["input_ids"]) for rows in bins for row in rows)
        if self.flatten:
            laid_out = [tuple(sum((part[k] for part in laid_out), []) for k in range(3))]  # type: ignore[misc]
        longest = max([len(ids) for ids, _, _ in laid_out] + [0 if self.flatten else (self.pad_to or 0)])
        input_ids = torch.full((len(laid_out), longest), self.pad_token_id, dtype=torch.long)
        labels = torch.full((len(laid_out), longest), IGNORE_INDEX, dtype=torch.long)
        position_ids = torch.zeros((len(laid_out), longest), dtype=torch.long)
        for i, (ids, row_labels, positions) in enumerate(laid_out):
            n = len(ids)
            input_ids[i, :n] = torch.as_tensor(ids)
            labels[i, :n] = torch.as_tensor(row_labels)
            position_ids[i, :n] = torch.as_tensor(positions)
            position_ids[i, n:] = torch.arange(longest - n)  # padding: a separate sequence of its own
        return {
            "input_ids": input_ids,
            "labels": labels,
            "position_ids": position_ids,
            "num_tokens": torch.tensor(real),
        }
