"""`type: chat_template` — OpenAI-style rows: `messages: [{role, content}, ...]`, rendered by the chat template.

Masking comes from ONE marked rendering per conversation: each message's content is replaced by a unique marker, the
template is rendered once, and the text between markers is the template's own (role headers, end-of-turn tokens).
The real text is those pieces with the contents put back, so every character is known to belong to a message or
to the template, and the trained spans are exact without rendering each turn twice (quadratic in turns).
A second, plain rendering checks that the template inserted every content verbatim (linear as well).
An assistant turn trains its content plus the end-of-turn token the template writes right after it.
"""

from __future__ import annotations

import re
from typing import Any

from hellbender.data.formats import register
from hellbender.data.formats.base import FormatContext, Segment

ROLES = ("system", "user", "assistant", "tool")
# Tokens that close a turn in common templates; the tokenizer's eos is tried first.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "</s>", "<|endoftext|>", "<|eot|>")
_MARKER = "\ue000hb{}\ue001"  # private-use characters: never in real text, survive jinja untouched
_MARKER_RE = re.compile("\ue000hb(\\d+)\ue001")


def _messages(row: dict[str, Any], index: int, ctx: FormatContext) -> list[dict[str, str]]:
    field = ctx.dataset.field_messages
    if field not in row or row[field] is None:
        seen = ", ".join(sorted(k for k, v in row.items() if v is not None)) or "(none)"
        raise ctx.row_error(
            index,
            f"missing field `{field}` (fields present: {seen}).",
            hint="set `field_messages:` on the dataset to the column that holds the conversation.",
        )
    messages = row[field]
    if not isinstance(messages, list):
        raise ctx.row_error(index, f"`{field}` must be a list of messages, got {type(messages).__name__}.")
    if not messages:
        raise ctx.row_error(index, f"`{field}` is an empty conversation.")
    cleaned = []
    for turn, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise ctx.row_error(index, f"message {turn} must be an object with `role` and `content`.")
        role, content = message["role"], message["content"]
        if role not in ROLES:
            seen = sorted({str(m.get("role")) for m in messages if isinstance(m, dict)})
            raise ctx.row_error(
                index,
                f"message {turn} has unknown role `{role}` (roles in this row: "
                f"{', '.join(seen)}; expected: {', '.join(ROLES)}).",
            )
        if not isinstance(content, str):
            raise ctx.row_error(index, f"message {turn} content must be text, got {type(content).__name__}.")
        cleaned.append({"role": role, "content": content})
    if not any(m["role"] == "assistant" for m in cleaned) and not ctx.train_on_inputs:
        raise ctx.row_error(index, "the conversation has no assistant message, so nothing would be trained.")
    return cleaned


def _render(messages: list[dict[str, str]], ctx: FormatContext) -> str:
    return ctx.tokenizer.apply_chat_template(
        messages, chat_template=ctx.chat_template, tokenize=False, add_generation_prompt=False
    )


def _end_of_turn(piece: str, ctx: FormatContext) -> int:
    """Length of the prefix of `piece` (template text after an assistant turn) that closes the turn, or 0."""
    candidates = [ctx.tokenizer.eos_token, *END_OF_TURN_TOKENS]
    best = 0
    for token in filter(None, candidates):
        at = piece.find(token)
        if at != -1 and not piece[:at].strip():
            end = at + len(token)
            best = end if best == 0 else min(best, end)
    return best


def _split_by_markers(rendered: str, count: int) -> list[str] | None:
    """Template pieces around the markers, or None if the template changed, dropped or repeated a marker."""
    found = [int(m) for m in _MARKER_RE.findall(rendered)]
    if found != list(range(count)):
        return None
    return _MARKER_RE.split(rendered)[0::2]


@register("chat_template")
def chat_template(row: dict[str, Any], index: int, ctx: FormatContext) -> list[Segment]:
    messages = _messages(row, index, ctx)
    marked = [{"role": m["role"], "content": _MARKER.format(i)} for i, m in enumerate(messages)]
    pieces = _split_by_markers(_render(marked, ctx), len(messages))
    if pieces is None or "".join(p + m["content"] for p, m in zip(pieces, messages)) + pieces[-1] != _render(
        messages, ctx
    ):
        raise ctx.row_error(
            index,
            "the chat template rewrites message contents, so trained spans cannot be located exactly.",
            hint="use a template that inserts `message['content']` verbatim (e.g. `chat_template: chatml`).",
        )
    segments = [Segment(pieces[0], ctx.train_on_inputs)]
    for message, after in zip(messages, pieces[1:]):
        trained = ctx.train_on_inputs or message["role"] == "assistant"
        closing = _end_of_turn(after, ctx) if message["role"] == "assistant" else 0
        segments.append(Segment(message["content"] + after[:closing], trained))
        segments.append(Segment(after[closing:], ctx.train_on_inputs))
    return [s for s in segments if s.text]
