"""Segments → `input_ids` + `labels`: the whole text is tokenized once and each token is labelled by the segments
its characters fall in (-100 = not trained).

Tokenizing the whole text (rather than each segment separately) is what the model sees at inference; a token that
straddles a trained/untrained boundary (a BPE merge across it) is trained and counted in `boundary_tokens`, so the
preprocess report can flag templates whose prompt/answer boundary merges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from transformers import PreTrainedTokenizerBase

from hellbender.data.formats.base import Pretokenized, Segment

IGNORE_INDEX = -100


@dataclass
class TokenizedRow:
    input_ids: list[int]
    labels: list[int]
    boundary_tokens: int


def label_tokens(segments: list[Segment], offsets: list[tuple[int, int]], input_ids: list[int]) -> TokenizedRow:
    """Label tokens from character offsets: trained iff any of its characters lies in a trained segment."""
    text_len = sum(len(s.text) for s in segments)
    trained_chars = np.zeros(text_len, dtype=np.int32)
    position = 0
    for segment in segments:
        if segment.trained:
            trained_chars[position : position + len(segment.text)] = 1
        position += len(segment.text)
    cumulative = np.concatenate([[0], np.cumsum(trained_chars)])
    starts = np.array([s for s, _ in offsets], dtype=np.int64)
    ends = np.array([max(e, s + 1) for s, e in offsets], dtype=np.int64).clip(max=text_len)
    in_trained = cumulative[ends] - cumulative[starts.clip(max=text_len)]
    trained = in_trained > 0
    boundary = int(np.count_nonzero(trained & (in_trained < (ends - starts))))
    labels = np.where(trained, np.asarray(input_ids, dtype=np.int64), IGNORE_INDEX)
    return TokenizedRow(list(input_ids), labels.tolist(), boundary)


def tokenize_batch(batch: list[list[Segment] | Pretokenized], tokenizer: PreTrainedTokenizerBase) -> list[TokenizedRow]:
    """Tokenize many rows in one call to the fast tokenizer (parallel in Rust), then label each.

    Pre-tokenized rows pass through unchanged.
    """
    text_rows = [i for i, row in enumerate(batch) if not isinstance(row, Pretokenized)]
    texts = ["".join(s.text for s in batch[i]) for i in text_rows]  # type: ignore[union-attr]
    encoded = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True) if texts else None
    out: list[TokenizedRow] = []
    position = 0
    for row in batch:
        if isinstance(row, Pretokenized):
            out.append(TokenizedRow(list(row.input_ids), list(row.labels), 0))
            continue
        assert encoded is not None
        out.append(label_tokens(row, encoded["offset_mapping"][position], encoded["input_ids"][position]))
        position += 1
    return out
