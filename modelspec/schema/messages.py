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

from modelspec.errors import QUOTE_LIMIT, Problem, did_you_mean, format_choices, quote, shorten
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


def _data_path(data: Any, loc: tuple) -> tuple[tuple, Any, Any]:
    """Follow a pydantic error location through the data, skipping union tags and validator names.

    Returns (path, parent container, value at path)."""
    path: list = []
    parent, current = None, data
    for part in loc:
        if isinstance(current, dict) and isinstance(part, str) and part in current or isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            parent, current = current, current[part]
            path.append(part)
    return tuple(path), parent, current


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
        tags = re.findall(r"'([^']*)'", ctx.get("expected_tags", ""))
        tag = ctx.get("tag")
        listed = [t for t in tags if t != "reuse"]
        what = "type"
        if "Input" in tags:  # a layer union: only the types a spec names are loaded; suggest from all of them
            from modelspec.layers import load_all_layers

            listed, what = list(load_all_layers()), "layer type"
        hint = did_you_mean(tag, listed) or f" (expected one of {format_choices(listed)})"
        return f"{prefix}unknown {what} {quote(tag)}{hint}", (*path, "type"), False
    if kind == "union_tag_not_found":
        if isinstance(value, dict):
            return f"{prefix}this entry needs a 'type' (or 'reuse: NAME' to call a layer again)", path, False
        return f"{prefix}expected a mapping with a 'type', received {_received(value)}", path, False
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        hint = did_you_mean(str(value), expected)
        return f"{prefix}received {_received(value)}, expected one of {format_choices(expected, limit=20)}{hint}", path, False
    if kind == "string_pattern_mismatch":
        if "A-Za-z_" in ctx.get("pattern", ""):
            return f"{prefix}{quote(value)} is not a valid name: use letters, digits and underscores, not starting with a digit", path, False
    if kind in _EXPECTED:
        return f"{prefix}expected {_EXPECTED[kind]}, received {_received(value)}", path, False
    if kind == "value_error":
        return f"{prefix}{shorten(error['msg'].removeprefix('Value error, '), 400)}", path, False
    return f"{prefix}{error['msg'][0].lower()}{error['msg'][1:]}, received {_received(value)}", path, False


def map_validation_error(error: ValidationError, located: Located, context: dict) -> list[Problem]:
    """Turn pydantic errors into located problems; one problem per distinct location and message."""
    problems: list[Problem] = []
    seen: set[tuple] = set()
    for item in error.errors():
        path, parent, value = _data_path(located.data, item["loc"])
        message, at, key = _message(item, path, parent, value, context)
        problem = located.problem(message, at, key=key)
        if (problem.line, problem.column, problem.message) not in seen:
            seen.add((problem.line, problem.column, problem.message))
            problems.append(problem)
    return problems
