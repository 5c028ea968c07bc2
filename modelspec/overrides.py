"""`--set KEY=VALUE`: override any spec value by dotted path before validation.

    fit.epochs=3
    compile.optimizer.learning_rate=0.01
    data.train=other.npz
    sequential.0.units=128          # a list item by index...
    layers.hidden.units=128         # ...or a layer entry by its name

Values are parsed as YAML (so `3` is a number and `[1, 2]` a list); the result is validated
again like any spec, so a bad override is reported like a bad spec.
"""

from __future__ import annotations

from typing import Any

from modelspec.errors import Problem, SpecError, did_you_mean, quote, shorten
from modelspec.source import Located, load_text


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """'fit.epochs=3' -> (['fit', 'epochs'], 3)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SpecError([Problem(f"--set expects KEY=VALUE (e.g. fit.epochs=3), received {quote(text)}")])
    return key.strip().split("."), load_text(f"value: {value}", "--set").data["value"]


def _step(container: Any, part: str, done: list[str]) -> Any:
    """The key or index of `part` in `container` (list items may be named by their `name`)."""
    where = shorten(".".join(done)) or "the spec"
    if isinstance(container, dict):
        return part
    if isinstance(container, list):
        if part.isascii() and part.isdigit():
            if len(part) > 9 or int(part) >= len(container):
                raise SpecError([Problem(f"--set: {where} has {len(container)} item(s), received index {shorten(part)}")])
            return int(part)
        names = [item.get("name") for item in container if isinstance(item, dict)]
        if part in names:
            return names.index(part)
        raise SpecError([Problem(f"--set: no item named {quote(part)} in {where}{did_you_mean(part, [n for n in names if n])}")])
    raise SpecError([Problem(f"--set: {where} is a value, not a mapping or list: cannot set {quote(part)} inside it")])


def apply_overrides(located: Located, assignments: list[str]) -> Located:
    """Apply each KEY=VALUE to the located data in place; returns it for chaining."""
    for text in assignments:
        path, value = parse_assignment(text)
        container = located.data
        for depth, part in enumerate(path[:-1]):
            key = _step(container, part, path[:depth])
            if isinstance(container, dict) and key not in container:
                container[key] = {}
            if isinstance(container, dict) and container[key] is None:
                container[key] = {}
            container = container[key]
        key = _step(container, path[-1], path[:-1])
        container[key] = value
    return located
