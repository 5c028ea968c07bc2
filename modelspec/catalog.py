"""The layer catalog, as data: what `modelspec layers` lists and explains.

Everything comes from the registry: a layer's family and one-line description from its config
class, its arguments (type, default, description) from the pydantic fields, and its YAML example
from its module's docstring (the indented block of entries every layer file starts with).

Example:
    [row.type for row in catalog()][:3]        # ['Activation', 'Dense', 'Embedding', ...] by family
    details = layer_details("Dense")
    details.arguments[0]                       # Argument(name='units', type='int > 0', default=None, required=True, ...)
    details.example                            # '- {type: Dense, units: 64, activation: relu}\\n...'
"""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import dataclass
from typing import Any

from modelspec import keras_names
from modelspec.errors import UsageError, quote, unknown_hint

#: Catalog order of the families (the README's table); others come after, alphabetically.
FAMILIES = ("core", "activation", "convolution", "pooling", "recurrent", "normalization", "regularization",
            "attention", "reshaping", "merging", "preprocessing", "models")

#: Above this many choices, a type shows the first few names and the count.
_MAX_CHOICES = 8


@dataclass(frozen=True)
class LayerSummary:
    """One row of the catalog."""

    type: str
    family: str
    description: str


@dataclass(frozen=True)
class Argument:
    """One key a layer entry accepts. `group` is "layer", "regularization" (Keras's regularizer and
    constraint arguments) or "common" (keys every layer accepts: name, inputs, trainable, ...)."""

    name: str
    type: str
    default: str | None
    required: bool
    description: str
    group: str


@dataclass(frozen=True)
class LayerDetails:
    type: str
    family: str
    description: str
    arguments: list[Argument]
    example: str


def _layers() -> dict[str, Any]:
    from modelspec.layers import load_all_layers

    return load_all_layers()


def _first_line(doc: str | None) -> str:
    lines = (doc or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def _family_key(family: str) -> tuple[int, str]:
    return (FAMILIES.index(family) if family in FAMILIES else len(FAMILIES), family)


def catalog() -> list[LayerSummary]:
    """Every registered layer type, grouped by family (the README's order), alphabetical within one."""
    rows = [LayerSummary(name, cls.family, _first_line(cls.__doc__)) for name, cls in _layers().items()]
    return sorted(rows, key=lambda row: (_family_key(row.family), row.type.lower()))


def find_layer(name: str) -> str:
    """The registered type called `name` (case-insensitive when unambiguous); UsageError with a did-you-mean otherwise."""
    layers = _layers()
    if name in layers:
        return name
    folded = [type_name for type_name in layers if type_name.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    hint = unknown_hint(name, layers, keras_names.LAYERS, "layer")
    raise UsageError(f"unknown layer type {quote(name)}{hint}; `modelspec layers` lists the {len(layers)} it has")


# ----- argument types as short text ------------------------------------------------------------
def _bounds(schema: dict[str, Any]) -> str:
    low = ("> " + _number(schema["exclusiveMinimum"])) if "exclusiveMinimum" in schema else (
        (">= " + _number(schema["minimum"])) if "minimum" in schema else "")
    high = ("< " + _number(schema["exclusiveMaximum"])) if "exclusiveMaximum" in schema else (
        ("<= " + _number(schema["maximum"])) if "maximum" in schema else "")
    return " ".join(part for part in (low, high) if part)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _choices(values: list[Any]) -> str:
    shown = [_yaml_value(v) for v in values]
    if len(shown) > _MAX_CHOICES:
        return " | ".join(shown[:_MAX_CHOICES]) + f" | ... ({len(shown)} names)"
    return " | ".join(shown)


def type_text(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    """A JSON Schema fragment as a short type, e.g. `int > 0 | list[int > 0]`, `relu | tanh | ...`."""
    if "$ref" in schema:
        target = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
        kind = target.get("properties", {}).get("type", {}).get("const")
        return f"{{type: {kind}, ...}}" if kind else "mapping"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            members = schema[key]
            layer_refs = [m for m in members if "$ref" in m and m["$ref"].rsplit("/", 1)[-1] in _layers()]
            if len(layer_refs) > _MAX_CHOICES:
                return "layer entry ({type: ..., ...})"
            names = {value for member in members for value in member.get("enum", [])}
            texts: list[str] = []
            for member in members:
                text = type_text(member, defs)
                if text.startswith("{type: ") and text[7:-6] in names:
                    text = "{type: ..., ...}"  # `l1` or `{type: l1, l1: 0.01}`: the mapping form of a listed name
                if text not in texts:
                    texts.append(text)
            return " | ".join(texts)
    if "const" in schema:
        return _yaml_value(schema["const"])
    if "enum" in schema:
        return _choices(schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        return " ".join(part for part in ("int", _bounds(schema)) if part)
    if kind == "number":
        return " ".join(part for part in ("float", _bounds(schema)) if part)
    if kind == "boolean":
        return "bool"
    if kind == "null":
        return "null"
    if kind == "string":
        return "name" if schema.get("pattern", "").startswith("^[A-Za-z_]") else "string"
    if kind == "array":
        if "prefixItems" in schema:
            return "[" + ", ".join(type_text(item, defs) for item in schema["prefixItems"]) + "]"
        inner = type_text(schema.get("items", {}), defs) if schema.get("items") else "any"
        count = schema.get("minItems") if schema.get("minItems") == schema.get("maxItems") else None
        return f"list[{inner}]" + (f" of {count}" if count is not None else "")
    if kind == "object":
        values = schema.get("additionalProperties")
        return f"mapping of {type_text(values, defs)}" if isinstance(values, dict) else "mapping"
    return "any"


def _yaml_value(value: Any) -> str:
    """A default as it would be written in YAML: null, true, [1, 1], relu."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


# ----- details ---------------------------------------------------------------------------------
def _groups() -> tuple[set[str], set[str]]:
    from modelspec.layers.base import LayerConfig
    from modelspec.regularizers import Regularized

    return set(LayerConfig.model_fields), set(Regularized.model_fields)


def arguments(type_name: str) -> list[Argument]:
    """The keys a layer entry of this type accepts (without `type`): its own, regularization, common."""
    from pydantic import TypeAdapter

    from modelspec.schema.editor import fallback_description

    cls = _layers()[type_name]
    schema = TypeAdapter(cls).json_schema()
    defs = schema.get("$defs", {})
    properties = schema["properties"] if "properties" in schema else defs[type_name]["properties"]
    common, regularization = _groups()
    found: list[Argument] = []
    for name, info in cls.model_fields.items():
        if name == "type":
            continue
        prop = properties.get(name, {})
        required = info.is_required()
        default = None if required else _yaml_value(prop["default"]) if "default" in prop else None
        description = info.description or fallback_description(name) or ""
        group = "common" if name in common else "regularization" if name in regularization else "layer"
        found.append(Argument(name, type_text(prop, defs), default, required, description, group))
    order = {"layer": 0, "regularization": 1, "common": 2}
    return sorted(found, key=lambda a: (order[a.group], not a.required))  # stable: field order within a group


def _indented_blocks(doc: str) -> list[str]:
    """The indented blocks of a docstring (its YAML examples), dedented."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in doc.splitlines():
        if line.startswith("    ") or (current and not line.strip()):
            current.append(line)
        else:
            if current:
                blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return [textwrap.dedent("\n".join(block)).strip("\n") + "\n" for block in blocks]


def _block_entries(text: str) -> list[Any]:
    """The layer entries of a YAML example block: a list of entries, or a model with sequential/layers."""
    from modelspec.errors import SpecError
    from modelspec.source import load_text

    try:
        data = load_text("example:\n" + textwrap.indent(text, "  "), "<example>").data["example"]
    except SpecError:
        return []
    if isinstance(data, dict):
        data = [entry for key in ("sequential", "layers") for entry in (data.get(key) or [])]
    return [entry for entry in data if isinstance(entry, dict)] if isinstance(data, list) else []


def example_blocks(type_name: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """(YAML text, its layer entries) for each example block of the layer's module docstring that uses the layer."""
    from modelspec.layers import entry_tag

    cls = _layers()[type_name]
    module = sys.modules.get(cls.__module__)
    found = []
    for block in _indented_blocks((module.__doc__ if module else None) or ""):
        entries = _block_entries(block)
        if any(entry_tag(entry) == type_name for entry in entries):
            found.append((block, entries))
    return found


def layer_example(type_name: str) -> str:
    """The YAML example of a layer type (from its module docstring), or a minimal entry when it has none."""
    blocks = example_blocks(type_name)
    if blocks:
        return "\n".join(text for text, _ in blocks)
    required = [a for a in arguments(type_name) if a.required]
    fields = ", ".join([f"type: {type_name}", *(f"{a.name}: ..." for a in required)])
    return f"- {{{fields}}}\n"


def layer_details(name: str) -> LayerDetails:
    """Everything `modelspec layers NAME` shows; UsageError with a did-you-mean for an unknown name."""
    type_name = find_layer(name)
    cls = _layers()[type_name]
    return LayerDetails(type_name, cls.family, (cls.__doc__ or "").strip(), arguments(type_name), layer_example(type_name))
