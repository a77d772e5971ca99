"""Load a YAML config: read the file, apply CLI overrides, sort keys, validate, and report every problem at once.

Warnings (ignored performance hints) go to the `hellbender.config` logger, one line each.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hellbender.config.keys import sort_dataset_keys, sort_top_level
from hellbender.config.schema import Config, DatasetConfig, cross_field_problems
from hellbender.errors import ConfigError, HellbenderError

log = logging.getLogger("hellbender.config")

# YAML 1.1 (PyYAML) reads `1e-4` as a string because it wants a dot; numbers in overrides must not depend on that.
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one) and reads `1e-4` as a float."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (the later value would silently win)", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def _read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, turning every way this can fail into one HellbenderError that names the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HellbenderError(
            f"config file not found: {path}", "check the path, or run from the folder it is in"
        ) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as err:
        raise HellbenderError(f"cannot read config file {path}: {err}") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = err.problem or err.context or "syntax error"
        raise HellbenderError(
            f"{path}: invalid YAML{where}: {what}",
            "check indentation and that every `key: value` has a space after ':'",
        ) from None
    except yaml.YAMLError as err:
        raise HellbenderError(f"{path}: invalid YAML: {err}") from None
    if data is None:
        raise HellbenderError(f"{path}: the file is empty", "a config needs at least base_model and datasets")
    if not isinstance(data, dict):
        raise HellbenderError(
            f"{path}: the top level must be a mapping of `key: value` lines, got a {type(data).__name__}"
        )
    return data


def parse_value(text: str) -> Any:
    """Type a command-line value like YAML would, but with `1e-4` as a float."""
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:
        return text


def parse_overrides(args: list[str]) -> dict[str, Any]:
    """Turn `--key value` / `--key=value` arguments (dashes or underscores alike) into a typed mapping.

    >>> parse_overrides(["--learning-rate", "1e-4", "--bf16=false"])
    {'learning_rate': 0.0001, 'bf16': False}
    """
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or len(arg) == 2:
            raise HellbenderError(f"config override {arg!r} must look like --key value or --key=value")
        if "=" in arg:
            name, value = arg[2:].split("=", 1)
            i += 1
        else:
            if i + 1 >= len(args) or args[i + 1].startswith("--"):
                raise HellbenderError(f"config override {arg} has no value", f"write {arg} VALUE or {arg}=VALUE")
            name, value = arg[2:], args[i + 1]
            i += 2
        out[name.replace("-", "_")] = parse_value(value)
    return out


def _loc(loc: tuple[Any, ...]) -> str:
    """('datasets', 0, 'path') -> datasets[0].path"""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _got(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "nothing (empty)"
    if isinstance(value, (list, dict)):
        return f"a {'list' if isinstance(value, list) else 'mapping'} ({value!r})"
    return repr(value)


_EXPECTED = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "text (a string)",
    "list": "a list",
    "dict": "a mapping of `key: value`",
    "model": "a mapping of `key: value`",
}


def _explain(err: dict[str, Any]) -> str:
    """One pydantic error in plain words: what was expected, what was given."""
    kind, ctx, got = err["type"], err.get("ctx") or {}, _got(err.get("input"))
    if kind == "missing":
        return "required, but missing"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"expected one of: {expected}; got {got}"
    if kind == "int_from_float":
        return f"expected a whole number, got {got}"
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        limit = int(limit) if isinstance(limit, float) and limit.is_integer() else limit
        return f"expected a number {bounds[kind]} {limit}, got {got}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got {ctx.get('actual_length')}"
    prefix = kind.split("_")[0]
    if prefix in _EXPECTED and (kind.endswith("_type") or kind.endswith("_parsing")):
        return f"expected {_EXPECTED[prefix]}, got {got}"
    return f"{err['msg']} (got {got})"


def _problems_from(error: ValidationError) -> list[str]:
    problems = []
    for err in error.errors():
        where = _loc(err["loc"])
        if err["type"] == "value_error" and not where:  # cross-field checks: one line each, already keyed
            problems.extend(str(err["ctx"]["error"]).splitlines())
        else:
            problems.append(f"`{where}`: {_explain(err)}")
    return problems


def validate(raw: dict[str, Any], source: str = "<config>") -> Config:
    """Validate an already-parsed mapping; all problems are raised together as one ConfigError."""
    kept, problems, hints = sort_top_level(raw, set(Config.model_fields))
    datasets = kept.get("datasets")
    if isinstance(datasets, list):
        cleaned = []
        for i, entry in enumerate(datasets):
            if isinstance(entry, dict):
                entry, more = sort_dataset_keys(i, entry, set(DatasetConfig.model_fields))
                problems.extend(more)
            cleaned.append(entry)
        kept["datasets"] = cleaned
    for hint in hints:
        log.warning("%s: %s", source, hint)
    try:
        config = Config.model_validate(kept)
    except ValidationError as err:
        problems.extend(_problems_from(err))
        if not any(e["type"] == "value_error" and not e["loc"] for e in err.errors()):
            problems.extend(cross_field_problems(kept))  # pydantic skipped them because a field failed
        config = None
    if problems:
        raise ConfigError(source, problems)
    assert config is not None
    return config


def load_config(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Config:
    """Read, override and validate the YAML config at `path`.

    Overrides are `--key value` strings (see parse_overrides) or an already-typed mapping; they replace top-level
    keys. With `strict: true` in the file, an override may only change a key the file already has (Axolotl's meaning).
    """
    path = Path(path)
    raw = _read_yaml(path)
    extra = parse_overrides(overrides) if isinstance(overrides, list) else dict(overrides or {})
    problems = []
    if raw.get("strict") is True:
        problems = [
            f"`--{key}`: strict: true allows overriding only keys present in the file; "
            f"add `{key}` to it or set strict: false"
            for key in extra
            if key not in raw
        ]
    raw.update({k: v for k, v in extra.items() if k in raw or raw.get("strict") is not True})
    try:
        config = validate(raw, str(path))
    except ConfigError as err:
        raise ConfigError(str(path), problems + err.problems) from None
    if problems:
        raise ConfigError(str(path), problems)
    return config


def resolved_yaml(config: Config) -> str:
    """The full resolved config (every field, defaults included) as YAML that load_config reads back unchanged."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True, width=120)
