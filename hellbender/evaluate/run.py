"""`hellbender evaluate`: generate a reply for each held-out row, score it against the reference, keep the
predictions (JSON lines) so every number can be traced to the outputs behind it."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hellbender.config import Config
from hellbender.data.sources import read_json_rows
from hellbender.errors import DataError
from hellbender.infer.generate import LoadedModel, build_prompt, generate


@dataclass
class EvalItem:
    messages: list[dict[str, str]]  # the conversation up to (not including) the reference reply
    reference: str


def read_eval_items(path: Path, field_messages: str = "messages") -> list[EvalItem]:
    """Rows with a conversation ending in the reference assistant reply, or alpaca rows (output = reference)."""
    if not path.is_file():
        raise DataError(f"evaluation file not found: {path}")
    rows = read_json_rows(path)
    items = [_item(row, path, number, field_messages) for number, row in enumerate(rows, start=1)]
    if not items:
        raise DataError(f"{path}: no rows to evaluate.")
    return items


def _item(row: dict[str, Any], path: Path, number: int, field_messages: str) -> EvalItem:
    messages = row.get(field_messages)
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        if messages[-1].get("role") != "assistant":
            raise DataError(f"{path}, row {number}: the last message must be the assistant's reference reply.")
        return EvalItem([dict(m) for m in messages[:-1]], str(messages[-1].get("content", "")))
    if "instruction" in row and "output" in row:
        user = row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else "")
        return EvalItem([{"role": "user", "content": user}], str(row["output"]))
    raise DataError(
        f"{path}, row {number}: expected `{field_messages}` (a conversation ending with the reference reply) "
        "or alpaca fields `instruction`/`output`."
    )


def score(prediction: str, reference: str) -> dict[str, float]:
    return {
        "exact_match": float(prediction.strip() == reference.strip()),
        "similarity": difflib.SequenceMatcher(None, prediction.strip(), reference.strip()).ratio(),
    }


def evaluate(
    config: Config,
    loaded: LoadedModel,
    items: list[EvalItem],
    predictions_path: Path | None,
    max_new_tokens: int = 64,
    batch_size: int = 16,
) -> dict[str, Any]:
    """Mean scores over `items`; each prediction with its scores is written to `predictions_path`."""
    records = []
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        prompts = [build_prompt(config, loaded.tokenizer, item.messages) for item in chunk]
        for item, prediction in zip(chunk, generate(loaded, prompts, max_new_tokens)):
            records.append(
                {
                    "prompt": item.messages[-1]["content"],
                    "reference": item.reference,
                    "prediction": prediction,
                    **score(prediction, item.reference),
                }
            )
    if predictions_path is not None:
        predictions_path.parent.mkdir(parents=True, exist_ok=True)
        predictions_path.write_text("".join(json.dumps(r) + "\n" for r in records))
    metrics = {name: sum(r[name] for r in records) / len(records) for name in ("exact_match", "similarity")}
    return {"model": loaded.description, "rows": len(records), **metrics, "records": records}
