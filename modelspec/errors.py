"""Typed errors. The library raises these; the CLI renders them (exit code 2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One mistake, located in a file when the location is known (line and column are 1-based)."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = [str(part) for part in (self.file, self.line, self.column) if part is not None]
        return f"{':'.join(where)}: {self.message}" if where else self.message


class ModelspecError(Exception):
    """Base class of every error modelspec raises on bad input."""


class SpecError(ModelspecError):
    """A spec is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DataError(ModelspecError):
    """Training, evaluation or prediction data does not fit the spec."""


class WeightsError(ModelspecError):
    """A weights file is missing, corrupt, or does not fit the model."""


class ShapeError(ValueError):
    """Raised by a layer's shape rule; the graph resolver adds the layer name and YAML location."""


#: How many characters of a received value a message quotes; the rest is counted, not shown.
QUOTE_LIMIT = 80


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` as a message shows it: whole up to `limit` characters, else its start, '...' and its length."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A received value quoted in a message: 'units', or 'DDDD...' (100,000 characters) for a long one."""
    text = str(value)
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}...' ({len(text):,} characters)"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    import difflib  # only on the error path

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {quote(close[0])}?)" if close else ""


def format_choices(choices: Iterable[str], limit: int = 12) -> str:
    """'a', 'b', 'c' ... for error messages."""
    items = sorted(set(choices))
    shown = ", ".join(f"'{c}'" for c in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


class UsageError(ModelspecError):
    """A command was asked for something it cannot do (unknown device, missing run to resume, ...)."""
