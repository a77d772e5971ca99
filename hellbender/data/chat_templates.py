"""Named chat templates (`chat_template:` in the config) and how the effective template is chosen.

Each template is written here by hand from its model family's published prompt layout, with two house rules that
the `chat_template` format depends on:
- `message['content']` is written verbatim (no trim), so trained spans can be located exactly;
- a family's bos token is written as literal text, once, because the pipeline tokenizes with
  `add_special_tokens=False` (the tokenizer adds nothing of its own).
Roles a family has no place for raise an error naming the role instead of being dropped silently.
"""

from __future__ import annotations

from transformers import PreTrainedTokenizerBase

from hellbender.errors import HellbenderError

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Llama 3 / 3.1 instruct: header per message, <|eot_id|> closes it; tool results use the `ipython` header.
LLAMA3 = (
    "{{ '<|begin_of_text|>' }}"
    "{% for message in messages %}"
    "{% set role = 'ipython' if message['role'] == 'tool' else message['role'] %}"
    "{{ '<|start_header_id|>' + role + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

# Shared head of the templates that fold a leading system message into a user turn (Mistral, Gemma).
_SYSTEM_IN_USER_TURN = (
    "{% if messages and messages[0]['role'] == 'system' %}"
    "{% set ns = namespace(system=messages[0]['content'], turns=messages[1:], last_user=-1) %}"
    "{% else %}{% set ns = namespace(system=none, turns=messages, last_user=-1) %}{% endif %}"
    "{% for message in ns.turns %}{% if message['role'] == 'user' %}{% set ns.last_user = loop.index0 %}{% endif %}"
    "{% endfor %}"
)


def _refuse_other_roles(name: str, allowed: str) -> str:
    return (
        "{% else %}{{ raise_exception('chat template " + name + " accepts " + allowed + " messages, not ' "
        "+ message['role']) }}{% endif %}"
    )


# Mistral tokenizer v1: "<s> [INST] user [/INST] answer</s> [INST] ..."; the system prompt opens the first user turn.
MISTRAL_V1 = (
    _SYSTEM_IN_USER_TURN + "{{ '<s>' }}"
    "{% for message in ns.turns %}"
    "{% if message['role'] == 'user' %}"
    "{% if ns.system is not none %}{{ ' [INST] ' + ns.system + '\n\n' + message['content'] + ' [/INST]' }}"
    "{% set ns.system = none %}"
    "{% else %}{{ ' [INST] ' + message['content'] + ' [/INST]' }}{% endif %}"
    "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + '</s>' }}"
    + _refuse_other_roles("mistral_v1", "a leading system, then user and assistant")
    + "{% endfor %}"
)

# Mistral tokenizer v2/v3: "<s>[INST] user[/INST] answer</s>[INST] ..."; the system prompt opens the LAST user turn.
MISTRAL_V2V3 = (
    _SYSTEM_IN_USER_TURN + "{{ '<s>' }}"
    "{% for message in ns.turns %}"
    "{% if message['role'] == 'user' %}"
    "{% if loop.index0 == ns.last_user and ns.system is not none %}"
    "{{ '[INST] ' + ns.system + '\n\n' + message['content'] + '[/INST]' }}"
    "{% else %}{{ '[INST] ' + message['content'] + '[/INST]' }}{% endif %}"
    "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + '</s>' }}"
    + _refuse_other_roles("mistral_v2v3", "a leading system, then user and assistant")
    + "{% endfor %}"
)

# Gemma: user/model turns closed by <end_of_turn>; no system role, so a system prompt opens the first user turn.
GEMMA = (
    _SYSTEM_IN_USER_TURN + "{{ '<bos>' }}"
    "{% for message in ns.turns %}"
    "{% if message['role'] == 'user' %}"
    "{% if ns.system is not none %}"
    "{{ '<start_of_turn>user\n' + ns.system + '\n\n' + message['content'] + '<end_of_turn>\n' }}"
    "{% set ns.system = none %}"
    "{% else %}{{ '<start_of_turn>user\n' + message['content'] + '<end_of_turn>\n' }}{% endif %}"
    "{% elif message['role'] == 'assistant' %}{{ '<start_of_turn>model\n' + message['content'] + '<end_of_turn>\n' }}"
    + _refuse_other_roles("gemma", "a leading system, then user and assistant")
    + "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)

# Phi-3: <|role|> headers, <|end|> closes a turn, and a finished conversation ends with <|endoftext|>.
PHI3 = (
    "{% for message in messages %}"
    "{% if message['role'] in ['system', 'user', 'assistant'] %}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>\n' }}"
    + _refuse_other_roles("phi3", "system, user and assistant")
    + "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ '<|endoftext|>' }}{% endif %}"
)

# Qwen2.5: ChatML with a default system prompt, tool definitions in the system turn, <tool_call> blocks after an
# assistant's content, and consecutive tool results grouped into one user turn of <tool_response> blocks.
_QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
_QWEN_TOOLS_INTRO = (
    "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided "
    "with function signatures within <tools></tools> XML tags:\\n<tools>"
)
_QWEN_TOOLS_OUTRO = (
    "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": '
    "<args-json-object>}\\n</tool_call><|im_end|>\\n"
)
QWEN25 = (
    "{% set has_system = messages and messages[0]['role'] == 'system' %}"
    "{{ '<|im_start|>system\n' }}"
    "{% if has_system %}{{ messages[0]['content'] }}{% else %}{{ '" + _QWEN_DEFAULT_SYSTEM + "' }}{% endif %}"
    '{% if tools %}{{ "' + _QWEN_TOOLS_INTRO + '" }}'
    "{% for tool in tools %}{{ '\n' + (tool | tojson) }}{% endfor %}"
    '{{ "' + _QWEN_TOOLS_OUTRO + '" }}'
    "{% else %}{{ '<|im_end|>\n' }}{% endif %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' and loop.first %}"
    "{% elif message['role'] == 'assistant' and message.get('tool_calls') %}"
    "{{ '<|im_start|>assistant' }}{% if message['content'] %}{{ '\n' + message['content'] }}{% endif %}"
    "{% for call in message['tool_calls'] %}"
    "{% set call = call['function'] if call['function'] is defined else call %}"
    "{{ '\n<tool_call>\n{\"name\": \"' + call['name'] + '\", \"arguments\": ' + (call['arguments'] | tojson) }}"
    "{{ '}\n</tool_call>' }}"
    "{% endfor %}{{ '<|im_end|>\n' }}"
    "{% elif message['role'] == 'tool' %}"
    "{% if loop.first or loop.previtem['role'] != 'tool' %}{{ '<|im_start|>user' }}{% endif %}"
    "{{ '\n<tool_response>\n' + message['content'] + '\n</tool_response>' }}"
    "{% if loop.last or loop.nextitem['role'] != 'tool' %}{{ '<|im_end|>\n' }}{% endif %}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Keys are exactly `SUPPORTED_CHAT_TEMPLATES` in config/schema.py minus the tokenizer_* and jinja choices.
NAMED_TEMPLATES = {
    "chatml": CHATML,
    "llama3": LLAMA3,
    "mistral": MISTRAL_V2V3,
    "mistral_v1": MISTRAL_V1,
    "mistral_v2v3": MISTRAL_V2V3,
    "gemma": GEMMA,
    "phi3": PHI3,
    "phi_3": PHI3,
    "qwen": QWEN25,
    "qwen_25": QWEN25,
}


def _tokenizer_template(tokenizer: PreTrainedTokenizerBase) -> str | None:
    template = tokenizer.chat_template
    if isinstance(template, dict):  # tokenizers with several named templates keep the chat one as "default"
        template = template.get("default")
    return template or None


def resolve_chat_template(name: str | None, jinja: str | None, tokenizer: PreTrainedTokenizerBase) -> str:
    """The jinja text to render conversations with: a raw `chat_template_jinja`, a named one, or the tokenizer's."""
    if jinja:
        return jinja
    if name in NAMED_TEMPLATES:
        return NAMED_TEMPLATES[name]
    if name not in (None, "tokenizer_default", "tokenizer_default_fallback_chatml", "jinja"):
        raise HellbenderError(
            f"unknown chat template '{name}'.", hint=f"use one of: {', '.join(sorted(NAMED_TEMPLATES))}."
        )
    own = _tokenizer_template(tokenizer)
    if own:
        return own
    if name == "tokenizer_default_fallback_chatml":
        return CHATML
    raise HellbenderError(
        "the tokenizer has no chat template, and the config names none.",
        hint="set `chat_template: chatml` (or `tokenizer_default_fallback_chatml`, or `chat_template_jinja:` with a "
        "template) in the config.",
    )
