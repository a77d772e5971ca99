"""Helpers of the format snapshot tests: the independent computation a format's tokens and labels are checked
against, and the trained text a human can read."""

from __future__ import annotations

from hellbender.data.tokenize import IGNORE_INDEX, TokenizedRow


def expected_tokens(tokenizer, pieces: list[tuple[str, bool]]) -> tuple[list[int], list[int]]:
    """Tokenize each hand-written piece on its own and mask the untrained ones."""
    ids: list[int] = []
    labels: list[int] = []
    for text, trained in pieces:
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids += piece
        labels += piece if trained else [IGNORE_INDEX] * len(piece)
    return ids, labels


def trained_text(tokenizer, row: TokenizedRow) -> str:
    """The decoded text of the trained tokens only."""
    return tokenizer.decode([t for t, label in zip(row.input_ids, row.labels) if label != IGNORE_INDEX])
