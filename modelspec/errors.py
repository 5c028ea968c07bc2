"""Typed errors. The library raises these; the CLI renders them (exit code 2)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    """Return ' (did you mean 'x'?)' for the closest choice, or '' when none is close.

    A choice two swapped letters away comes first: 'adma' -> 'adam', not 'adamax'."""
    import difflib  # only on the error path

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=3, cutoff=0.6)
    swapped = [c for c in close if _swapped(str(word), c)]
    best = (swapped or close)[:1]
    return f" (did you mean {quote(best[0])}?)" if best else ""


def _swapped(word: str, choice: str) -> bool:
    """Whether `choice` is `word` with two neighbouring letters swapped."""
    if len(word) != len(choice):
        return False
    differ = [i for i, (a, b) in enumerate(zip(word, choice)) if a != b]
    return len(differ) == 2 and differ[1] == differ[0] + 1 and sorted(word[i] for i in differ) == sorted(choice[i] for i in differ)


def unknown_hint(word: str, choices: Iterable[str], keras: Mapping[str, str], what: str) -> str:
    """How an "unknown <what> 'word'" message ends: modelspec's name for what Keras calls `word`, a note
    that Keras has it and modelspec does not, or else the usual did-you-mean.

    `keras` maps Keras's public names to the class (or function) each is (modelspec.keras_names).
    Names compare without case and underscores ('MeanSquaredError' is 'mean_squared_error').

        unknown_hint("MaxPool2D", layers, LAYERS, "layer")       # " (did you mean 'MaxPooling2D'?)": Keras's alias
        unknown_hint("Normalization", layers, LAYERS, "layer")   # ": Keras has this layer but modelspec does not (yet)"
        unknown_hint("LSTMCell", layers, LAYERS, "layer")        # ": Keras has this layer but ... (yet); modelspec has 'LSTM'"
        unknown_hint("Dence", layers, LAYERS, "layer")           # " (did you mean 'Dense'?)"
    """
    choices = [str(c) for c in choices]
    target = keras_class(word, keras)
    if target is None:
        return did_you_mean(word, choices)
    aliases = {_folded(name) for name, same in keras.items() if same == target} | {_folded(target)}
    ours = [c for c in choices if _folded(c) in aliases]
    if ours:
        return f" (did you mean {quote(ours[0])}?)"
    shorter = [c for c in choices if str(word).startswith(c)]  # LSTMCell -> LSTM, InputLayer -> Input
    return f": Keras has this {what} but modelspec does not (yet)" + (f"; modelspec has {quote(max(shorter, key=len))}" if shorter else "")


def keras_class(word: str, keras: Mapping[str, str]) -> str | None:
    """The Keras class (or function) that `word` names in `keras` (case and underscores aside), else None."""
    return {_folded(name): same for name, same in keras.items()}.get(_folded(str(word)))


def _folded(name: str) -> str:
    return name.replace("_", "").lower()


def format_choices(choices: Iterable[str], limit: int = 12) -> str:
    """'a', 'b', 'c' ... for error messages."""
    items = sorted(set(choices))
    shown = ", ".join(f"'{c}'" for c in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


class UsageError(ModelspecError):
    """A command was asked for something it cannot do (unknown device, missing run to resume, ...)."""
