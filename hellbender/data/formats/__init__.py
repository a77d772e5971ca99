"""Prompt formats: each turns one source row into text segments with a trained/not-trained flag.

A format registers itself with one line beside its code (`@register("name")`); the config validates
`datasets[].type` against `registered_formats()`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hellbender.data.formats.base import FormatFn

_REGISTRY: dict[str, FormatFn] = {}


def register(name: str) -> Callable[[FormatFn], FormatFn]:
    def wrap(fn: FormatFn) -> FormatFn:
        _REGISTRY[name] = fn
        return fn

    return wrap


def _load_builtin() -> None:
    # Imported for their @register side effect; kept in one place so the list is visible.
    from hellbender.data.formats import (  # noqa: F401
        alpaca,
        chat_template,
        completion,
        input_output,
        pretokenized,
        user_defined,
    )


def registered_formats() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_format(name: str) -> FormatFn:
    _load_builtin()
    return _REGISTRY[name]
