"""`type: chat_template` — conversations (OpenAI `messages` or ShareGPT `conversations`) rendered by a chat template.

Masking comes from ONE marked rendering per conversation: each message's content (and reasoning, when it has some)
is replaced by a unique marker, the template is rendered once, and the text between markers is the template's own
(role headers, end-of-turn tokens, rendered tool calls). The real text is those pieces with the strings put back, so
every character is known to belong to a message or to the template, and trained spans are exact without rendering
each turn prefix separately (quadratic in turns). A second, plain rendering checks that the template inserted every
string verbatim. docs/chat_template.md states the rules; `_segments` applies them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError

from hellbender.data.formats import register
from hellbender.data.formats.base import FormatContext, Segment
from hellbender.errors import DataError

# Row role name -> template role. `roles:` in the dataset entry adds to (and overrides) these.
ROLE_ALIASES = {
    "system": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "model": "assistant",
    "bot": "assistant",
    "tool": "tool",
    "function": "tool",
    "observation": "tool",
    "ipython": "tool",
}
# Tokens that close a turn in common templates; the tokenizer's eos is tried too.
END_OF_TURN_TOKENS = (
    "<|im_end|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<end_of_turn>",
    "<|end|>",
    "</s>",
    "<|endoftext|>",
    "<|eot|>",
    "<|end_of_text|>",
    "<|END_OF_TURN_TOKEN|>",
)
_KEPT_KEYS = ("tool_calls", "tool_call_id", "name")  # passed through to the template when present
_MARKER = "\ue000hb{}\ue001"  # private-use characters: never in real text, survive jinja untouched
_MARKER_RE = re.compile("\ue000hb(\\d+)\ue001")


@dataclass(frozen=True)
class _Message:
    fields: dict[str, Any]  # what the template sees: role, content, tool_calls, reasoning, ...
    trained: bool


def _conversation(row: dict[str, Any], index: int, ctx: FormatContext) -> tuple[str, list[Any]]:
    field = ctx.dataset.field_messages
    if row.get(field) is None and field == "messages" and row.get("conversations") is not None:
        field = "conversations"  # ShareGPT rows, found without configuration
    if row.get(field) is None:
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
    return field, messages


def _property_keys(ctx: FormatContext, first: Any) -> tuple[str, str]:
    """Which message keys hold role and content: configured, else role/content, else ShareGPT's from/value."""
    ds = ctx.dataset
    mapping = ds.message_property_mappings or {}
    role, content = mapping.get("role") or ds.message_field_role, mapping.get("content") or ds.message_field_content
    sharegpt = isinstance(first, dict) and first.get("role") is None and first.get("from") is not None
    return role or ("from" if sharegpt else "role"), content or ("value" if sharegpt else "content")


def _role_map(ctx: FormatContext) -> dict[str, str]:
    mapping = dict(ROLE_ALIASES)
    for target, sources in (ctx.dataset.roles or {}).items():
        mapping.setdefault(target, target)
        mapping.update({source: target for source in sources})
    return mapping


def _is_trained(message: dict[str, Any], role: str, where: str, index: int, ctx: FormatContext) -> bool:
    """Per-message `train`/`weight` first, then train_on_inputs, then roles_to_train."""
    key = ctx.dataset.message_field_training or "train"
    flag = message.get(key)
    if flag is not None:
        if not isinstance(flag, bool):
            raise ctx.row_error(index, f"{where}: `{key}` must be true or false, got {flag!r}.")
        return flag
    weight = message.get("weight")
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight not in (0, 1):
            raise ctx.row_error(
                index,
                f"{where}: `weight` is {weight!r}; only 0 (not trained) and 1 (trained) are supported.",
                hint="per-token loss weights are not supported; use 0/1 or `train: true/false`.",
            )
        return weight == 1
    roles = _role_map(ctx)
    train_roles = {roles.get(r, r) for r in (ctx.dataset.roles_to_train or ["assistant"])}
    return ctx.train_on_inputs or role in train_roles


def _message(raw: Any, turn: int, keys: tuple[str, str], seen_roles: str, index: int, ctx: FormatContext) -> _Message:
    role_key, content_key = keys
    where = f"message {turn}"
    if not isinstance(raw, dict) or raw.get(role_key) is None:
        got = type(raw).__name__ if not isinstance(raw, dict) else f"keys {', '.join(sorted(raw)) or '(none)'}"
        raise ctx.row_error(index, f"{where} must be an object with `{role_key}` and `{content_key}` (got {got}).")
    roles = _role_map(ctx)
    role = roles.get(raw[role_key]) if isinstance(raw[role_key], str) else None
    if role is None:
        raise ctx.row_error(
            index,
            f"{where} has unknown role `{raw[role_key]}` (roles in this row: {seen_roles}; "
            f"accepted: {', '.join(sorted(roles))}).",
            hint="map it with `roles:` on the dataset, e.g. roles: {assistant: [" + str(raw[role_key]) + "]}.",
        )
    content = raw.get(content_key)
    if content is None and role == "assistant" and raw.get("tool_calls"):
        content = ""  # an assistant turn that only calls tools
    if content is None:
        raise ctx.row_error(index, f"{where} (`{raw[role_key]}`) has no `{content_key}`.")
    if not isinstance(content, str):
        raise ctx.row_error(
            index,
            f"{where} (`{raw[role_key]}`) `{content_key}` must be text, got {type(content).__name__}.",
            hint="multimodal content lists are not supported; give each message its text.",
        )
    fields: dict[str, Any] = {"role": role, "content": content}
    fields.update({k: raw[k] for k in _KEPT_KEYS if raw.get(k) is not None})
    thinking_key = ctx.dataset.field_thinking or "reasoning_content"
    thinking = raw.get(thinking_key)
    if thinking is not None:
        if not isinstance(thinking, str):
            raise ctx.row_error(index, f"{where} `{thinking_key}` must be text, got {type(thinking).__name__}.")
        fields[thinking_key] = thinking
    return _Message(fields, _is_trained(raw, role, where, index, ctx))


def _messages(row: dict[str, Any], index: int, ctx: FormatContext) -> list[_Message]:
    field, raw = _conversation(row, index, ctx)
    keys = _property_keys(ctx, raw[0])
    seen = ", ".join(sorted({str(m.get(keys[0])) for m in raw if isinstance(m, dict)})) or "(none)"
    messages = [_message(m, turn, keys, seen, index, ctx) for turn, m in enumerate(raw)]
    if ctx.dataset.drop_system_message:
        messages = [m for m in messages if m.fields["role"] != "system"]
    if ctx.default_system_message is not None and not any(m.fields["role"] == "system" for m in messages):
        system = {"role": "system", "content": ctx.default_system_message}
        messages.insert(0, _Message(system, _is_trained({}, "system", "default system message", index, ctx)))
    if not messages:
        raise ctx.row_error(index, f"`{field}` is empty once system messages are dropped.")
    return messages


def _tools(row: dict[str, Any], index: int, ctx: FormatContext) -> Any:
    field = ctx.dataset.field_tools or "tools"
    tools = row.get(field)
    if isinstance(tools, str):  # tools are often stored as a JSON string so every row has the same column type
        try:
            tools = json.loads(tools)
        except json.JSONDecodeError as error:
            raise ctx.row_error(index, f"`{field}` is text but not JSON ({error.msg}).") from None
    if tools is not None and not isinstance(tools, list):
        raise ctx.row_error(index, f"`{field}` must be a list of tool definitions, got {type(tools).__name__}.")
    return tools


def _render(messages: list[dict[str, Any]], tools: Any, index: int, ctx: FormatContext, prompt: bool = False) -> str:
    extra = {"tools": tools} if tools else {}
    try:
        return ctx.tokenizer.apply_chat_template(
            messages, chat_template=ctx.chat_template, tokenize=False, add_generation_prompt=prompt, **extra
        )
    except TemplateError as error:
        raise ctx.row_error(
            index, f"the chat template refused this conversation: {error}", hint="check the roles and their order."
        ) from None


# (template, special tokens) -> generation header: it depends on the template only, not on the row, so it is rendered
# once per template instead of twice per row (half the rendering time of short chats).
_HEADERS: dict[tuple[str | None, str], str] = {}


def _generation_prompt(index: int, ctx: FormatContext) -> str:
    """The text `add_generation_prompt` appends (the assistant header): where a trained assistant turn begins."""
    key = (ctx.chat_template, repr(sorted(ctx.tokenizer.special_tokens_map.items())))
    if key not in _HEADERS:
        probe = [{"role": "user", "content": "x"}]
        try:
            plain, prompted = _render(probe, None, index, ctx), _render(probe, None, index, ctx, prompt=True)
        except (DataError, TypeError):  # a template that cannot render the probe has no known header
            plain, prompted = "", ""
        _HEADERS[key] = prompted[len(plain) :] if prompted.startswith(plain) else ""
    return _HEADERS[key]


def _end_of_turn(piece: str, ctx: FormatContext) -> tuple[int, int] | None:
    """Start and end of the first end-of-turn token in `piece` (template text after a message), or None."""
    best: tuple[int, int] | None = None
    for token in filter(None, {ctx.tokenizer.eos_token, *END_OF_TURN_TOKENS}):
        at = piece.find(token)
        if at != -1 and (best is None or (at, -(at + len(token))) < (best[0], -best[1])):
            best = (at, at + len(token))
    return best


def _marked(messages: list[_Message], ctx: FormatContext) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Messages with strings replaced by markers (2i: reasoning of message i, 2i+1: its content) and the originals."""
    thinking_key = ctx.dataset.field_thinking or "reasoning_content"
    marked, originals = [], {}
    for i, message in enumerate(messages):
        fields = dict(message.fields)
        if fields.get(thinking_key):
            originals[2 * i] = fields[thinking_key]
            fields[thinking_key] = _MARKER.format(2 * i)
        originals[2 * i + 1] = fields["content"]
        fields["content"] = _MARKER.format(2 * i + 1)
        marked.append(fields)
    return marked, originals


def _split(rendered: str, originals: dict[int, str], count: int) -> tuple[list[str], list[int]] | None:
    """Template pieces and the markers between them (text order), or None if a content marker is missing/repeated.

    A template may drop reasoning (many keep it for the last turn only) but must write every content once.
    """
    found = [int(m) for m in _MARKER_RE.findall(rendered)]
    if len(set(found)) != len(found) or not set(found) <= set(originals):
        return None
    if not {2 * i + 1 for i in range(count)} <= set(found):
        return None
    return _MARKER_RE.split(rendered)[0::2], found


@register("chat_template")
def chat_template(row: dict[str, Any], index: int, ctx: FormatContext) -> list[Segment]:
    messages = _messages(row, index, ctx)
    tools = _tools(row, index, ctx)
    marked, originals = _marked(messages, ctx)
    split = _split(_render(marked, tools, index, ctx), originals, len(messages))
    plain = _render([m.fields for m in messages], tools, index, ctx)
    if split is None or "".join(p + originals[m] for p, m in zip(*split)) + split[0][-1] != plain:
        raise ctx.row_error(
            index,
            "the chat template rewrites, drops or repeats message contents, so trained spans cannot be located "
            "exactly.",
            hint="use a template that writes `message['content']` verbatim and unconditionally (e.g. "
            "`chat_template: chatml`); an empty assistant content before tool calls must still be written.",
        )
    return _segments(messages, *split, originals, index, ctx)


def _segments(
    messages: list[_Message],
    pieces: list[str],
    found: list[int],
    originals: dict[int, str],
    index: int,
    ctx: FormatContext,
) -> list[Segment]:
    """Label each piece of text: see docs/chat_template.md, "What is trained"."""
    mode = ctx.dataset.train_on_eos or "turn"
    trained_ids = [i for i, m in enumerate(messages) if m.trained]
    last_trained = trained_ids[-1] if trained_ids else -1
    header = _generation_prompt(index, ctx) if any(m.fields["role"] == "assistant" for m in messages) else ""
    segments: list[Segment] = []
    glue = ctx.train_on_inputs  # template text that belongs to no message: headers, separators
    for position, piece in enumerate(pieces):
        before = found[position - 1] if position else None  # the marker this piece follows
        after = found[position] if position < len(found) else None  # the marker this piece precedes
        own = messages[before // 2] if before is not None else None
        closing = None
        if before is not None and before % 2 == 0 and after == before + 1:
            segments.append(Segment(piece, own.trained))  # between a message's reasoning and its content
            piece = ""
        elif before is not None and before % 2 == 1:
            closing = _end_of_turn(piece, ctx)
        if closing is not None:
            eot_trained = {"turn": own.trained, "last": before // 2 == last_trained, "all": True, "none": False}[mode]
            segments += [
                Segment(piece[: closing[0]], own.trained),
                Segment(piece[closing[0] : closing[1]], eot_trained),
            ]
            piece = piece[closing[1] :]
        opener = messages[after // 2] if after is not None else None
        first_of_opener = after is not None and (after % 2 == 0 or after - 1 not in found)
        if opener and opener.trained and first_of_opener and opener.fields["role"] == "assistant" and header:
            cut = piece.rfind(header)
            if cut != -1:  # text the template writes after the assistant header is the model's to produce
                segments += [Segment(piece[: cut + len(header)], glue), Segment(piece[cut + len(header) :], True)]
                piece = ""
        segments.append(Segment(piece, glue))
        if opener is not None:
            segments.append(Segment(originals[after], opener.trained))
    return [s for s in segments if s.text]
