"""Named chat templates (`chat_template:` in the config) and how the effective template is chosen."""

from __future__ import annotations

from transformers import PreTrainedTokenizerBase

from hellbender.errors import HellbenderError

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

NAMED_TEMPLATES = {"chatml": CHATML}


def resolve_chat_template(name: str | None, jinja: str | None, tokenizer: PreTrainedTokenizerBase) -> str:
    """The jinja text to render conversations with: a raw `chat_template_jinja`, a named one, or the tokenizer's."""
    if jinja:
        return jinja
    if name and name not in ("tokenizer_default", "jinja"):
        return NAMED_TEMPLATES[name]
    if not tokenizer.chat_template:
        raise HellbenderError(
            "the tokenizer has no chat template, and the config names none.",
            hint="set `chat_template: chatml` (or `chat_template_jinja:` with a template) in the config.",
        )
    return tokenizer.chat_template
