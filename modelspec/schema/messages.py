"""Pydantic's validation errors as located problems: what was received, what was expected, a did-you-mean.

Each pydantic error is followed through the located data to the YAML value (or key) at fault and
worded for the spec's author; one problem per distinct location and message.

Example:
    problems = map_validation_error(error, located, context)   # [Problem('spec.yaml', 4, 12, "unknown key 'unit' ...")]
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from modelspec import keras_names
from modelspec.errors import QUOTE_LIMIT, Problem, did_you_mean, format_choices, keras_class, quote, shorten, unknown_hint
from modelspec.source import Located

_YAML_TYPES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "a mapping", type(None): "null"}
_EXPECTED = {
    "int_type": "an integer", "float_type": "a number", "bool_type": "true or false", "string_type": "a string",
    "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
}


def _received(value: Any) -> str:
    """How a YAML value reads back to its author: true, null, 'text' (a string), a mapping."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    shown = _shown(value) if not isinstance(value, (dict, list)) else ("a mapping" if isinstance(value, dict) else "a list")
    kind = _YAML_TYPES.get(type(value), type(value).__name__)
    return shown if shown.startswith("a ") else f"{shown} ({kind})"


def _shown(value: Any) -> str:
    """repr of a scalar, or its start and length when long (a 100,000-character string, a 4,000-digit integer)."""
    text = repr(value)
    return text if len(text) <= QUOTE_LIMIT else quote(value)


def _is_step(current: Any, part: Any) -> bool:
    """Whether a part of a pydantic error location is a key (or index) of `current`, not a union member or validator name."""
    if isinstance(current, dict):
        return isinstance(part, str) and part in current
    return isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)


def _data_path(data: Any, loc: tuple) -> tuple[tuple, Any, Any]:
    """Follow a pydantic error location through the data, skipping union tags and validator names.

    Returns (path, parent container, value at path)."""
    path: list = []
    parent, current = None, data
    for index, part in enumerate(loc):
        if _is_step(current, part) and not _is_tag(current, part, loc[index + 1:]):
            parent, current = current, current[part]
            path.append(part)
    return tuple(path), parent, current


def _is_tag(current: Any, part: Any, rest: tuple) -> bool:
    """Whether `part` names a union member that is also a key of the mapping (`{reuse: s, extra: 1}`: the
    loc ('reuse', 'extra') means the key 'extra' of the 'reuse' member, not something inside the value 's')."""
    return isinstance(current, dict) and bool(rest) and not isinstance(current[part], (dict, list)) and _is_step(current, rest[0])


def _member_at(data: Any, loc: tuple, start: int) -> int | None:
    """The index in `loc`, from `start` on, of the first part that names a union member (not a data key)."""
    current = data
    for i, part in enumerate(loc):
        if _is_step(current, part):
            current = current[part]
        elif i >= start:
            return i
    return None


# ----- unions: the member the value was written as ----------------------------------------------
#: pydantic error types saying a value is not of a member's type (beside every "..._type": list_type, loss_type, ...).
_WRONG_TYPE = frozenset({"none_required", "is_instance_of", "int_parsing", "float_parsing", "bool_parsing"})

Ranked = tuple[int, dict]  # (position among pydantic's errors, the error)


def _meant(errors: list[Ranked], data: Any, start: int = 0) -> list[Ranked]:
    """Where every member of a union failed, the errors of the member the value was written as.

    pydantic reports each member: `loss: mse_typo` against name | list | mapping gives "unknown loss",
    "expected a list" and "expected a mapping". The member whose type fits the YAML value is kept; when
    none fits, one "expected a loss name ..., a list or a mapping" error. Nested unions the same way.
    """
    kept: list[Ranked] = []
    unions: dict[tuple, dict[Any, list[Ranked]]] = {}
    for ranked in errors:
        loc = tuple(ranked[1]["loc"])
        at = _member_at(data, loc, start)
        if at is None:
            kept.append(ranked)
        else:
            unions.setdefault(loc[:at], {}).setdefault(loc[at], []).append(ranked)
    for union, members in unions.items():
        chosen = _best_member(union, members, data) if len(members) > 1 else next(iter(members.values()))
        kept += _meant(chosen, data, len(union) + 1)
    return sorted(kept, key=lambda ranked: ranked[0])


def _best_member(union: tuple, members: dict[Any, list[Ranked]], data: Any) -> list[Ranked]:
    """The errors of the member the value was meant for, or one "expected A, B or C" error when it fits none."""
    path, _, value = _data_path(data, union)
    depth = {id(error): len(_data_path(data, error["loc"])[0]) for errors in members.values() for _, error in errors}

    def wrong_type(error: dict) -> bool:
        return depth[id(error)] == len(path) and _is_wrong_type(error, value)

    fitting = [errors for errors in members.values() if not all(wrong_type(error) for _, error in errors)]
    if not fitting:
        first = min(rank for errors in members.values() for rank, _ in errors)
        expected = [_expected(errors[0][1]) for errors in members.values()]
        return [(first, {"type": "wrong_type", "loc": union, "msg": "", "ctx": {"expected": expected}})]
    tag = value.get("type") if isinstance(value, dict) else None

    def fit(errors: list[Ranked]) -> tuple:
        inside = all(depth[id(error)] > len(path) for _, error in errors)  # it took the value and failed within
        tagged = tag is not None and any(tag in tuple(error["loc"])[len(union) + 1 :] for _, error in errors)  # {type: huber, ...}
        return inside, tagged, -len(errors)

    return max(fitting, key=fit)


def _is_wrong_type(error: dict, value: Any) -> bool:
    kind = error["type"]
    if kind == "literal_error":
        return not isinstance(value, str)
    if kind == "union_tag_not_found":
        return not isinstance(value, dict)
    return kind in _WRONG_TYPE or kind.endswith("_type") and not kind.startswith("missing")


def _expected(error: dict) -> str:
    """What a member expected, as the "expected ..." of a message: 'a list', "'batch'", 'a loss name or ...'."""
    if error["type"] in _EXPECTED:
        return _EXPECTED[error["type"]]
    if error["type"] == "literal_error":
        names = re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))
        return format_choices(names) if len(names) == 1 else f"one of {format_choices(names)}"
    text = f"{error['msg'][0].lower()}{error['msg'][1:]}"
    return text.removeprefix("expected ").removeprefix("input should be ")


def _dotted(path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: dict, path: tuple, parent: Any, value: Any, context: dict) -> tuple[str, tuple, bool]:
    """(message, location path, point at the key) for one pydantic error."""
    kind, ctx, where = error["type"], error.get("ctx", {}), _dotted(path)
    prefix = f"{where}: " if where else ""
    if error["loc"] and error["loc"][-1] == "[key]":
        key = error["loc"][-2] if len(error["loc"]) > 1 else value
        return f"{prefix}the key {quote(key)} is not valid: {error['msg'][0].lower()}{error['msg'][1:]}", path, True
    if kind == "extra_forbidden":
        key = path[-1] if path else error["loc"][-1]
        model = context.get("models", {}).get(id(parent))
        fields = model.field_names() if model else []
        kind_name = getattr(parent, "get", lambda _k: None)("type") if isinstance(parent, dict) else None
        owner = f" for {kind_name}" if isinstance(kind_name, str) else ""
        hint = did_you_mean(key, fields) or (f" (expected one of {format_choices(fields)})" if fields else "")
        return f"unknown key {quote(key)}{owner}{hint}", path, True
    if kind == "missing":
        field = error["loc"][-1]
        return f"{prefix}missing required key '{field}'", path, False
    if kind == "union_tag_invalid":
        return f"{prefix}{_unknown_tag(ctx)}", (*path, "type"), False
    if kind == "union_tag_not_found":
        if isinstance(value, dict):
            return f"{prefix}this entry needs a 'type' (or 'reuse: NAME' to call a layer again)", path, False
        return f"{prefix}expected a mapping with a 'type', received {_received(value)}", path, False
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        if isinstance(value, dict):  # `activation: {type: relu, ...}`: a field that takes a name only
            return f"{prefix}takes a name only, it has no object form {{type: ..., ...}}: received a mapping, expected one of {format_choices(expected, limit=20)}", path, False
        hint = did_you_mean(str(value), expected)
        return f"{prefix}received {_received(value)}, expected one of {format_choices(expected, limit=20)}{hint}", path, False
    if kind == "string_pattern_mismatch":
        if "A-Za-z_" in ctx.get("pattern", ""):
            return f"{prefix}{quote(value)} is not a valid name: use letters, digits and underscores, not starting with a digit", path, False
    if kind in _EXPECTED:
        return f"{prefix}expected {_EXPECTED[kind]}, received {_received(value)}", path, False
    if kind == "value_error":
        return f"{prefix}{shorten(error['msg'].removeprefix('Value error, '), 400)}", path, False
    if kind == "wrong_type":
        return f"{prefix}expected {_either(ctx['expected'])}, received {_received(value)}", path, False
    note = _keras_note(kind, value, ctx) if kind in _KERAS_KINDS else None
    if note:
        return f"{prefix}{note}", path, False
    text = f"{error['msg'][0].lower()}{error['msg'][1:]}"
    quoted = repr(value) in text or quote(value) in text  # a custom message quotes the value already
    return f"{prefix}{text}" + ("" if quoted else f", received {_received(value)}"), path, False


def _unknown_tag(ctx: dict) -> str:
    """"unknown layer type 'Dence' (did you mean 'Dense'?)": a tag no member of a tagged union has."""
    tags = re.findall(r"'([^']*)'", ctx.get("expected_tags", ""))
    tag = str(ctx.get("tag"))
    listed, what, keras, more = [t for t in tags if t != "reuse"], "type", {}, ""
    if "Input" in tags:  # a layer union: only the types a spec names are loaded; suggest from all of them
        from modelspec.layers import load_all_layers

        listed, what, keras = list(load_all_layers()), "layer type", keras_names.LAYERS
        more = f"; `modelspec layers` lists the {len(listed)} it has"
    elif set(tags) & set(keras_names.CALLBACKS):
        what, keras = "callback", keras_names.CALLBACKS
        more = f"; expected one of {format_choices(listed)}"
    hint = unknown_hint(tag, listed, keras, what.removesuffix(" type"))
    if hint.startswith(":"):
        return f"unknown {what} {quote(tag)}{hint}{more}"
    return f"unknown {what} {quote(tag)}{hint or f' (expected one of {format_choices(listed)})'}"


#: Errors of an unknown name of a kind (modelspec.identifiers, modelspec.optimizers.config) -> (the kind, Keras's names).
_KERAS_KINDS = {
    "unknown_loss": ("loss", keras_names.LOSSES),
    "unknown_metric": ("metric", keras_names.METRICS),
    "unknown_optimizer": ("optimizer", keras_names.OPTIMIZERS),
}


def _keras_note(kind: str, value: Any, ctx: dict) -> str | None:
    """"unknown loss 'dice': Keras has this loss but modelspec does not (yet); expected one of: ..." for a
    name Keras has (or modelspec's name for it, as 'MeanSquaredError' -> 'mean_squared_error'); None otherwise."""
    what, keras = _KERAS_KINDS[kind]
    name = value.get("type") if isinstance(value, dict) else value
    if not isinstance(name, str) or keras_class(name, keras) is None:
        return None
    choices = re.findall(r"'([^']*)'", ctx.get("choices", ""))
    return f"unknown {what} {quote(name)}{unknown_hint(name, choices, keras, what)}; expected one of: {format_choices(choices, limit=len(choices))}"


def _either(expected: list[str]) -> str:
    """'a list or a mapping'; 'a loss name or a mapping with a 'type' key, a list or a mapping'."""
    unique = list(dict.fromkeys(expected))
    return unique[0] if len(unique) == 1 else f"{', '.join(unique[:-1])} or {unique[-1]}"


def map_validation_error(error: ValidationError, located: Located, context: dict) -> list[Problem]:
    """Turn pydantic errors into located problems; one problem per distinct location and message."""
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for _, item in _meant(list(enumerate(error.errors())), located.data):
        path, parent, value = _data_path(located.data, item["loc"])
        message, at, key = _message(item, path, parent, value, context)
        problem = located.problem(message, at, key=key)
        if (problem.file, problem.line, problem.column, problem.message) not in seen:
            seen.add((problem.file, problem.line, problem.column, problem.message))
            problems.append(problem)
    return problems
