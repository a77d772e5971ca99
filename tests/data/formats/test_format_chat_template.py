"""`chat_template` with the real SmolLM2 tokenizer: masks against pieces written out by hand, tokenized on their own.

SmolLM2's own template is ChatML that adds a default system prompt; most tests name `chatml` so the expected text
stays short, and a few use the tokenizer's own template to show the injection.
"""

from __future__ import annotations

import pytest

from hellbender.config import DatasetConfig
from hellbender.config.schema import SUPPORTED_CHAT_TEMPLATES
from hellbender.data.chat_templates import NAMED_TEMPLATES, resolve_chat_template
from hellbender.data.formats import get_format
from hellbender.data.formats.base import FormatContext
from hellbender.data.tokenize import IGNORE_INDEX, tokenize_batch
from hellbender.errors import DataError, HellbenderError
from tests.snapshot import expected_tokens as _expected

U, A, S, E = "<|im_start|>user\n", "<|im_start|>assistant\n", "<|im_start|>system\n", "<|im_end|>"
SMOL_SYSTEM = S + "You are a helpful AI assistant named SmolLM, trained by Hugging Face" + E + "\n"
TWO_TURNS = [
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "Four."},
    {"role": "user", "content": "And 3+3?"},
    {"role": "assistant", "content": "Six."},
]


def _context(tokenizer, template: str = "chatml", train_on_inputs: bool = False, system=None, **keys) -> FormatContext:
    return FormatContext(
        tokenizer=tokenizer,
        dataset=DatasetConfig(path="chats.jsonl", type="chat_template", **keys),
        train_on_inputs=train_on_inputs,
        chat_template=NAMED_TEMPLATES.get(template, template),
        default_system_message=system,
    )


def _check(tokenizer, row: dict, pieces: list[tuple[str, bool]], trained_text: str, **context):
    got = tokenize_batch([get_format("chat_template")(row, 0, _context(tokenizer, **context))], tokenizer)[0]
    ids, labels = _expected(tokenizer, pieces)
    assert tokenizer.decode(got.input_ids) == "".join(text for text, _ in pieces)
    assert got.input_ids == ids
    assert got.labels == labels
    trained = [t for t, label in zip(got.input_ids, got.labels) if label != IGNORE_INDEX]
    assert tokenizer.decode(trained) == trained_text
    return got


def test_openai_rows_train_assistant_contents_and_their_end_of_turn(smollm2_tokenizer) -> None:
    pieces = [
        (U + "What is 2+2?" + E + "\n" + A, False),
        ("Four." + E, True),
        ("\n" + U + "And 3+3?" + E + "\n" + A, False),
        ("Six." + E, True),
        ("\n", False),
    ]
    got = _check(smollm2_tokenizer, {"messages": TWO_TURNS}, pieces, "Four.<|im_end|>Six.<|im_end|>")
    assert got.boundary_tokens == 0


def test_tokenizer_own_template_injects_its_default_system_prompt(smollm2_tokenizer) -> None:
    row = {"messages": TWO_TURNS[:2]}
    pieces = [(SMOL_SYSTEM + U + "What is 2+2?" + E + "\n" + A, False), ("Four." + E, True), ("\n", False)]
    _check(smollm2_tokenizer, row, pieces, "Four.<|im_end|>", template=smollm2_tokenizer.chat_template)


SHAREGPT_PIECES = [(U + "Hi" + E + "\n" + A, False), ("Hello!" + E, True), ("\n", False)]


@pytest.mark.parametrize(
    ("row", "keys"),
    [
        ({"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]}, {}),
        ({"messages": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"}]}, {}),
        (
            {"chat": [{"who": "human", "text": "Hi"}, {"who": "bot", "text": "Hello!"}]},
            {"field_messages": "chat", "message_property_mappings": {"role": "who", "content": "text"}},
        ),
        (
            {"chat": [{"who": "user", "text": "Hi"}, {"who": "model", "text": "Hello!"}]},
            {"field_messages": "chat", "message_field_role": "who", "message_field_content": "text"},
        ),
        (
            {"messages": [{"role": "customer", "content": "Hi"}, {"role": "agent", "content": "Hello!"}]},
            {"roles": {"user": ["customer"], "assistant": ["agent"]}},
        ),
    ],
    ids=["sharegpt-conversations", "from-value-detected", "property-mappings", "legacy-fields", "roles"],
)
def test_sharegpt_and_mapped_rows(smollm2_tokenizer, row: dict, keys: dict) -> None:
    _check(smollm2_tokenizer, row, SHAREGPT_PIECES, "Hello!<|im_end|>", **keys)


def test_roles_to_train_and_train_on_inputs(smollm2_tokenizer) -> None:
    row = {"messages": TWO_TURNS[:2]}
    user_only = [(U, False), ("What is 2+2?" + E, True), ("\n" + A + "Four." + E + "\n", False)]
    _check(smollm2_tokenizer, row, user_only, "What is 2+2?<|im_end|>", roles_to_train=["human"])
    everything = [(U + "What is 2+2?" + E + "\n" + A + "Four." + E + "\n", True)]
    text = "".join(t for t, _ in everything)
    _check(smollm2_tokenizer, row, everything, text, train_on_inputs=True)


@pytest.mark.parametrize(
    ("mode", "eots", "trained_text"),
    [
        ("turn", (False, True, False, True), "Four.<|im_end|>Six.<|im_end|>"),
        ("last", (False, False, False, True), "Four.Six.<|im_end|>"),
        ("all", (True, True, True, True), "<|im_end|>Four.<|im_end|><|im_end|>Six.<|im_end|>"),
        ("none", (False, False, False, False), "Four.Six."),
    ],
)
def test_train_on_eos_modes(smollm2_tokenizer, mode: str, eots: tuple[bool, ...], trained_text: str) -> None:
    pieces = [
        (U + "What is 2+2?", False),
        (E, eots[0]),
        ("\n" + A, False),
        ("Four.", True),
        (E, eots[1]),
        ("\n" + U + "And 3+3?", False),
        (E, eots[2]),
        ("\n" + A, False),
        ("Six.", True),
        (E, eots[3]),
        ("\n", False),
    ]
    _check(smollm2_tokenizer, {"messages": TWO_TURNS}, pieces, trained_text, train_on_eos=mode)


def test_per_message_train_and_weight_override_the_role(smollm2_tokenizer) -> None:
    messages = [
        {"role": "user", "content": "What is 2+2?", "weight": 1},
        {"role": "assistant", "content": "Four.", "learn": False},
        {"role": "user", "content": "And 3+3?"},
        {"role": "assistant", "content": "Six.", "weight": 0},
        {"role": "user", "content": "Thanks", "learn": True},
        {"role": "assistant", "content": "Welcome.", "learn": None, "weight": None},
    ]
    pieces = [
        (U, False),
        ("What is 2+2?" + E, True),
        ("\n" + A + "Four." + E + "\n" + U + "And 3+3?" + E + "\n" + A + "Six." + E + "\n" + U, False),
        ("Thanks" + E, True),
        ("\n" + A, False),
        ("Welcome." + E, True),
        ("\n", False),
    ]
    trained = "What is 2+2?<|im_end|>Thanks<|im_end|>Welcome.<|im_end|>"
    _check(smollm2_tokenizer, {"messages": messages}, pieces, trained, message_field_training="learn")


def test_default_system_message_is_added_only_when_missing(smollm2_tokenizer) -> None:
    row = {"messages": TWO_TURNS[:2]}
    pieces = [(S + "Be brief." + E + "\n" + U + "What is 2+2?" + E + "\n" + A, False), ("Four." + E, True)]
    _check(smollm2_tokenizer, row, [*pieces, ("\n", False)], "Four.<|im_end|>", system="Be brief.")
    own = {"messages": [{"role": "system", "content": "Be brief."}, *TWO_TURNS[:2]]}
    _check(smollm2_tokenizer, own, [*pieces, ("\n", False)], "Four.<|im_end|>", system="Be verbose.")


def test_drop_system_message(smollm2_tokenizer) -> None:
    row = {"messages": [{"role": "system", "content": "Be brief."}, *TWO_TURNS[:2]]}
    pieces = [(U + "What is 2+2?" + E + "\n" + A, False), ("Four." + E, True), ("\n", False)]
    _check(smollm2_tokenizer, row, pieces, "Four.<|im_end|>", drop_system_message=True)
    # with the tokenizer's own template the dropped prompt is replaced by the template's default one
    _check(
        smollm2_tokenizer,
        row,
        [(SMOL_SYSTEM + pieces[0][0], False), *pieces[1:]],
        "Four.<|im_end|>",
        drop_system_message=True,
        template=smollm2_tokenizer.chat_template,
    )


TOOLS = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]
TOOL_CALL = [{"type": "function", "function": {"name": "add", "arguments": {"a": 2, "b": 3}}}]


@pytest.mark.parametrize(
    "tools",
    [TOOLS, '[{"type": "function", "function": {"name": "add", "parameters": {"type": "object"}}}]'],
    ids=["list", "json-text"],
)
def test_tools_and_tool_calls_with_qwen(smollm2_tokenizer, tools) -> None:
    row = {
        "tools": tools,
        "messages": [
            {"role": "user", "content": "2+3?"},
            {"role": "assistant", "content": "Adding.", "tool_calls": TOOL_CALL},
            {"role": "tool", "content": "5"},
            {"role": "assistant", "content": "It is 5."},
        ],
    }
    system = (
        S + "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.\n\n# Tools\n\nYou may call one or "
        "more functions to assist with the user query.\n\nYou are provided with function signatures within "
        '<tools></tools> XML tags:\n<tools>\n{"type": "function", "function": {"name": "add", "parameters": '
        '{"type": "object"}}}\n</tools>\n\nFor each function call, return a json object with function name and '
        'arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": '
        "<args-json-object>}\n</tool_call>" + E + "\n"
    )
    call = '\n<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>'
    pieces = [
        (system + U + "2+3?" + E + "\n" + A, False),
        ("Adding." + call + E, True),
        ("\n" + U + "<tool_response>\n5\n</tool_response>" + E + "\n" + A, False),
        ("It is 5." + E, True),
        ("\n", False),
    ]
    _check(smollm2_tokenizer, row, pieces, "Adding." + call + "<|im_end|>It is 5.<|im_end|>", template="qwen")


def test_tool_call_without_content_passes_through_a_template_that_writes_content(smollm2_tokenizer) -> None:
    template = (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] }}"
        "{% for c in m.get('tool_calls') or [] %}{{ '<call>' + c['function']['name'] + '</call>' }}{% endfor %}"
        "{{ '<|im_end|>\n' }}{% endfor %}"
    )
    row = {
        "messages": [
            {"role": "user", "content": "2+3?"},
            {"role": "assistant", "content": None, "tool_calls": TOOL_CALL},
        ]
    }
    pieces = [(U + "2+3?" + E + "\n" + A, False), ("<call>add</call>" + E, True), ("\n", False)]
    _check(smollm2_tokenizer, row, pieces, "<call>add</call><|im_end|>", template=template)


def test_reasoning_written_by_the_template_is_trained(smollm2_tokenizer) -> None:
    template = (
        "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' }}"
        "{% if m.get('thoughts') %}{{ '<think>\n' + m['thoughts'] + '\n</think>\n\n' }}{% endif %}"
        "{{ m['content'] + '<|im_end|>\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    row = {"messages": [TWO_TURNS[0], {"role": "assistant", "content": "Four.", "thoughts": "two plus two"}]}
    pieces = [(U + "What is 2+2?" + E + "\n" + A, False), ("<think>\ntwo plus two\n</think>\n\nFour." + E, True)]
    trained = "<think>\ntwo plus two\n</think>\n\nFour.<|im_end|>"
    _check(smollm2_tokenizer, row, [*pieces, ("\n", False)], trained, template=template, field_thinking="thoughts")


def test_twenty_turn_conversation_is_masked_exactly(smollm2_tokenizer) -> None:
    messages, pieces, trained = [], [(SMOL_SYSTEM, False)], ""
    for turn in range(20):
        question, answer = f"Question {turn}: what is {turn} squared?", f"It is {turn * turn}."
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        pieces += [((U if turn == 0 else "\n" + U) + question + E + "\n" + A, False), (answer + E, True)]
        trained += answer + "<|im_end|>"
    pieces.append(("\n", False))
    got = _check(smollm2_tokenizer, {"messages": messages}, pieces, trained, template=smollm2_tokenizer.chat_template)
    assert got.boundary_tokens == 0


CONVERSATION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
NAMED_CASES = {
    # name: (untrained prompt, trained answer, untrained tail, bos, end-of-turn token). A prompt given as a tuple is
    # tokenized piece by piece: BPE splits "\n\n" before a word into two "\n" tokens.
    "chatml": (S + "Be brief." + E + "\n" + U + "Hi" + E + "\n" + A, "Hello!" + E, "\n", None, E),
    "llama3": (
        (
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n",
            "\n",
        ),
        "Hello!<|eot_id|>",
        "",
        "<|begin_of_text|>",
        "<|eot_id|>",
    ),
    # Mistral puts a space before the answer: it merges with the answer's first word and that token is trained
    "mistral_v1": ("<s> [INST] Be brief.\n\nHi [/INST]", " Hello!</s>", "", "<s>", "</s>"),
    "mistral_v2v3": ("<s>[INST] Be brief.\n\nHi[/INST]", " Hello!</s>", "", "<s>", "</s>"),
    "gemma": (
        "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n",
        "Hello!<end_of_turn>",
        "\n",
        "<bos>",
        "<end_of_turn>",
    ),
    "phi3": (
        "<|system|>\nBe brief.<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n",
        "Hello!<|end|>",
        "\n<|endoftext|>",
        None,
        "<|end|>",
    ),
    "qwen_25": (S + "Be brief." + E + "\n" + U + "Hi" + E + "\n" + A, "Hello!" + E, "\n", None, E),
}
ALIASES = {"mistral": "mistral_v2v3", "phi_3": "phi3", "qwen": "qwen_25"}


def test_named_templates_are_exactly_the_configurable_names() -> None:
    configurable = set(SUPPORTED_CHAT_TEMPLATES) - {"tokenizer_default", "tokenizer_default_fallback_chatml", "jinja"}
    assert set(NAMED_TEMPLATES) == configurable
    assert set(NAMED_CASES) | set(ALIASES) == configurable
    assert all(NAMED_TEMPLATES[alias] == NAMED_TEMPLATES[name] for alias, name in ALIASES.items())


@pytest.mark.parametrize("name", sorted(NAMED_TEMPLATES))
def test_named_template_snapshot(smollm2_tokenizer, name: str) -> None:
    prompts, answer, tail, bos, eot = NAMED_CASES[ALIASES.get(name, name)]
    prompts = prompts if isinstance(prompts, tuple) else (prompts,)
    prompt = "".join(prompts)
    row = {"messages": [*CONVERSATION, {"role": "assistant", "content": "Hello!"}]}
    pieces = [*((p, False) for p in prompts), (answer, True), (tail, False)]
    got = _check(smollm2_tokenizer, row, [p for p in pieces if p[0]], answer, template=name)
    text = prompt + answer + tail
    assert got.boundary_tokens == (1 if name.startswith("mistral") else 0)
    if bos:
        assert text.count(bos) == 1 and text.startswith(bos)
    assert text.count(eot) == (1 if name.startswith("mistral") else 2 if name == "gemma" else 3)
    # bos/eos appear exactly once as tokens too: the tokenizer adds nothing of its own
    assert smollm2_tokenizer.decode(got.input_ids) == text


@pytest.mark.parametrize("name", sorted(NAMED_TEMPLATES))
def test_named_template_generation_prompt(smollm2_tokenizer, name: str) -> None:
    prompt = NAMED_CASES[ALIASES.get(name, name)][0]
    prompt = "".join(prompt) if isinstance(prompt, tuple) else prompt
    rendered = smollm2_tokenizer.apply_chat_template(
        CONVERSATION, chat_template=NAMED_TEMPLATES[name], tokenize=False, add_generation_prompt=True
    )
    assert rendered == prompt  # mistral's prompt already ends with [/INST]; the others add the assistant header


def test_resolve_tokenizer_default_and_fallback(smollm2_tokenizer) -> None:
    import copy

    bare = copy.copy(smollm2_tokenizer)
    bare.chat_template = None
    own = smollm2_tokenizer.chat_template
    assert resolve_chat_template("tokenizer_default", None, smollm2_tokenizer) == own
    assert resolve_chat_template("tokenizer_default_fallback_chatml", None, smollm2_tokenizer) == own
    assert resolve_chat_template("tokenizer_default_fallback_chatml", None, bare) == NAMED_TEMPLATES["chatml"]
    assert resolve_chat_template("jinja", "{{ x }}", bare) == "{{ x }}"
    assert resolve_chat_template("gemma", None, bare) == NAMED_TEMPLATES["gemma"]
    with pytest.raises(HellbenderError, match="no chat template"):
        resolve_chat_template("tokenizer_default", None, bare)


@pytest.mark.parametrize(
    ("row", "keys", "fragments"),
    [
        ({"text": "x", "id": 3}, {}, ["missing field `messages` (fields present: id, text)"]),
        ({"dialog": [], "text": "x"}, {"field_messages": "dialog"}, ["`dialog` is an empty conversation"]),
        ({"messages": "hello"}, {}, ["`messages` must be a list of messages, got str"]),
        ({"messages": []}, {}, ["empty conversation"]),
        ({"messages": ["hi"]}, {}, ["message 0 must be an object with `role` and `content` (got str)"]),
        ({"messages": [{"content": "x"}]}, {}, ["message 0 must be an object with `role` and `content`"]),
        ({"messages": [{"role": "user"}]}, {}, ["message 0 (`user`) has no `content`"]),
        ({"messages": [{"role": "assistant", "content": None}]}, {}, ["message 0 (`assistant`) has no `content`"]),
        (
            {"messages": [{"role": "user", "content": "x"}, {"role": "wizard", "content": "y"}]},
            {},
            ["message 1 has unknown role `wizard`", "roles in this row: user, wizard", "accepted: assistant, bot"],
        ),
        (
            {"conversations": [{"from": "human", "value": "x"}, {"from": "narrator", "value": "y"}]},
            {"roles": {"assistant": ["gpt"]}},
            ["message 1 has unknown role `narrator`", "roles in this row: human, narrator"],
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
            {},
            ["message 0 (`user`) `content` must be text, got list"],
        ),
        (
            {"messages": [{"role": "assistant", "content": "x", "weight": 0.5}]},
            {},
            ["message 0: `weight` is 0.5; only 0 (not trained) and 1 (trained) are supported"],
        ),
        ({"messages": [{"role": "assistant", "content": "x", "train": "yes"}]}, {}, ["`train` must be true or false"]),
        ({"messages": [{"role": "system", "content": "x"}]}, {"drop_system_message": True}, ["empty once system"]),
        ({"messages": [{"role": "user", "content": "x"}], "tools": "{oops"}, {}, ["`tools` is text but not JSON"]),
    ],
)
def test_bad_rows_name_the_file_row_and_field(smollm2_tokenizer, row: dict, keys: dict, fragments: list) -> None:
    with pytest.raises(DataError) as error:
        get_format("chat_template")(row, 6, _context(smollm2_tokenizer, **keys))
    assert str(error.value).startswith("chats.jsonl, row 7: ")
    for fragment in fragments:
        assert fragment in str(error.value)


def test_template_errors_and_rewrites_are_data_errors(smollm2_tokenizer) -> None:
    tool_row = {"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "y"}]}
    with pytest.raises(DataError, match=r"row 1: the chat template refused .*not tool"):
        get_format("chat_template")(tool_row, 0, _context(smollm2_tokenizer, "mistral"))
    trimming = "{% for m in messages %}{{ m['role'] + ': ' + m['content'] | trim + '\n' }}{% endfor %}"
    row = {"messages": [{"role": "user", "content": " padded "}, {"role": "assistant", "content": "x"}]}
    with pytest.raises(DataError, match="row 1: the chat template rewrites"):
        get_format("chat_template")(row, 0, _context(smollm2_tokenizer, trimming))
