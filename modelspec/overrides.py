"""`--set KEY=VALUE`: override any spec value by dotted path before validation.

    fit.epochs=3
    compile.optimizer.learning_rate=0.01   # `optimizer: adam` becomes {type: adam, learning_rate: 0.01}
    data.train=other.npz
    sequential.0.units=128          # a list item by index...
    layers.hidden.units=128         # ...or a layer entry by its name

Values are parsed as YAML (so `3` is a number and `[1, 2]` a list); the result is validated
again like any spec, so a bad override is reported like a bad spec, located at the `--set`
that caused it (`--set fit.epoch=3: unknown key 'epoch' (did you mean 'epochs'?)`).

Setting a field inside a value given by name (an optimizer, loss, metric, regularizer,
constraint or callback: `adam`, `mse`, `l1_l2`, `EarlyStopping`) writes the name's object form
first, `{type: NAME, ...}` with what the name means (`l1_l2`: l1 = l2 = 0.01), then the field;
the mapping and its `type` keep the name's line and column. The caller passes the forms
(modelspec.object_forms, from the kinds' registries); a name without one (an activation, an
initializer) is an error that says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from modelspec.errors import Problem, SpecError, did_you_mean, quote, shorten
from modelspec.source import Located, Path_, load_text

#: A value that reads as a name (`relu`, `same`), as opposed to a path or a sentence.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: Each name that has an object form -> that form ({type: adam}): what apply_overrides is given.
ObjectForms = Mapping[str, "dict[str, Any]"]


def origin(text: str) -> str:
    """Where a problem caused by this override is reported: `--set fit.epochs=3`."""
    return f"--set {shorten(text)}"


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """'fit.epochs=3' -> (['fit', 'epochs'], 3)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SpecError([Problem(f"--set expects KEY=VALUE (e.g. fit.epochs=3), received {quote(text)}")])
    try:
        parsed = load_text(f"value: {value}", "--set").data["value"]
    except SpecError as error:
        raise SpecError([Problem(f"the value {quote(value)} is not YAML: {p.message}", origin(text)) for p in error.problems]) from None
    return key.strip().split("."), parsed


def _fail(text: str, message: str) -> SpecError:
    return SpecError([Problem(message, origin(text))])


def _not_a_container(value: Any, where: str, part: str, forms: ObjectForms) -> str:
    """Why a field cannot be set inside `value`: a number, or a name with no object form."""
    if isinstance(value, str) and _NAME.fullmatch(value):
        return (f"{where} is {quote(value)}, a name with no object form {{type: ..., ...}}{did_you_mean(value, forms)}: "
                f"cannot set {quote(part)} inside it")
    shown = quote(value) if isinstance(value, str) else "null" if value is None else str(value).lower()
    return f"{where} is {shown}, a value, not a mapping or list: cannot set {quote(part)} inside it"


def _step(container: Any, part: str, done: list[str], text: str, forms: ObjectForms) -> Any:
    """The key or index of `part` in `container` (list items may be named by their `name`)."""
    where = shorten(".".join(done)) or "the spec"
    if isinstance(container, dict):
        return part
    if isinstance(container, list):
        if part.isascii() and part.isdigit():
            if len(part) > 9 or int(part) >= len(container):
                raise _fail(text, f"{where} has {len(container)} item(s), received index {shorten(part)}")
            return int(part)
        names = [item.get("name") for item in container if isinstance(item, dict)]
        if part in names:
            return names.index(part)
        raise _fail(text, f"no item named {quote(part)} in {where}{did_you_mean(part, [n for n in names if n])}")
    raise _fail(text, _not_a_container(container, where, part, forms))


def _forget(located: Located, path: Path_) -> None:
    """Drop the locations of the value at `path` and of everything under it: an override replaces them.
    (The key at `path` stays where the file has it.)"""
    def under(p: Path_) -> bool:
        return p[: len(path)] == path
    for table in (located.values, located.origins):
        for stale in [p for p in table if under(p)]:
            del table[stale]
    for stale in [p for p in located.keys if under(p) and p != path]:
        del located.keys[stale]


def _open(located: Located, container: Any, key: Any, path: Path_, text: str, forms: ObjectForms) -> Any:
    """The mapping or list at container[key] to step into: made when missing or null, or from a name
    (its object form, located where the name is, so that problems with the name still point at it)."""
    value = container[key] if isinstance(container, list) or key in container else None
    if value is None:
        _forget(located, path)
        value = container[key] = {}
        located.origins[path] = origin(text)
    elif isinstance(value, str) and value in forms:
        value = container[key] = dict(forms[value])
        if path in located.values:
            for field in value:
                located.values[(*path, field)] = located.keys[(*path, field)] = located.values[path]
    return value


def apply_overrides(located: Located, assignments: list[str], *, object_forms: ObjectForms | None = None) -> Located:
    """Apply each KEY=VALUE to the located data in place, locating what it sets at the --set; returns it for chaining.

    `object_forms` maps each name that has an object form to it ({type: adam}): the mapping the name
    becomes when a field is set inside it (modelspec.object_forms.object_forms(), from the registries)."""
    forms = object_forms or {}
    for text in assignments:
        parts, value = parse_assignment(text)
        container, path = located.data, ()
        for depth, part in enumerate(parts[:-1]):
            key = _step(container, part, parts[:depth], text, forms)
            path = (*path, key)
            container = _open(located, container, key, path, text, forms)
        key = _step(container, parts[-1], parts[:-1], text, forms)
        path = (*path, key)
        _forget(located, path)
        container[key] = value
        located.origins[path] = origin(text)
    return located
