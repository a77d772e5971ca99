"""Errors a user can cause: caught once at the CLI edge and printed without a traceback."""

from __future__ import annotations


class HellbenderError(Exception):
    """A problem with the user's input (config, data, paths), with a hint on what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(HellbenderError):
    """One or more problems in a config file, all reported together."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems)} config {noun}:\n{lines}")


class DataError(HellbenderError):
    """A dataset file or row that cannot be used; the message names the file and row."""
