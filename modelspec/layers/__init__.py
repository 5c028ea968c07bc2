"""The layer registry: every module in this package registers one layer type.

Adding a layer type is adding one file here with a `@register`ed config class, named after the
type as Keras names its files: `MaxPooling2D` lives in `max_pooling2d.py` (the type's name in lower
case is the file's name without underscores; a family such as SpatialDropout1D/2D/3D may share
`spatial_dropout.py`).

Modules are imported when a spec names their type (`load_layer_types`), so that `validate` and
`summary` build the schemas of the layers a spec uses, not of all of them; `load_all_layers` imports
every one (the catalog, the JSON schema, did-you-mean suggestions). `AnyLayer` is the field type of
the registered configs (a tagged union made when a schema is built: modelspec.schema.fields).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterable
from typing import Any

from modelspec.layers.base import (
    LAYERS,
    LayerConfig,
    Shape,
    Weight,
    auto_name_base,
    format_shape,
    register,
)
from modelspec.schema.fields import Kind, tagged_union

#: A layer module's key (its name without underscores) -> its name; `base*` modules hold no layer type.
_MODULES = {
    name[:-3].replace("_", ""): name[:-3]
    for name in sorted(os.listdir(__path__[0]))
    if name.endswith(".py") and not name.startswith(("base", "__"))
}


def module_of(type_name: str) -> str | None:
    """The module that registers `type_name` (`MaxPooling2D` -> `max_pooling2d`), or None if there is none."""
    key = type_name.lower()
    module = _MODULES.get(key) or _MODULES.get(re.sub(r"[123]d$", "", key))
    return f"{__name__}.{module}" if module else None


def load_layer_types(names: Iterable[Any]) -> None:
    """Import the modules of the layer types in `names` not registered yet; names of no layer are skipped."""
    for name in names:
        if isinstance(name, str) and name not in LAYERS and (module := module_of(name)):
            importlib.import_module(module)


def load_all_layers() -> dict[str, type[LayerConfig]]:
    """Import every layer module: the whole registry (LAYERS), for listings and suggestions."""
    for module in _MODULES.values():
        importlib.import_module(f"{__name__}.{module}")
    return LAYERS


load_layer_types(["Input", "Model"])  # always present: the union has members, sub-models resolve


def entry_tag(value: Any) -> str | None:
    """The union tag of a layer entry: its `type`; `Model` for a bare {model: ...}; `reuse` for {reuse: ...}."""
    if isinstance(value, dict):
        if "type" in value:
            return value["type"] if isinstance(value["type"], str) else repr(value["type"])
        if "reuse" in value:
            return "reuse"
        if "model" in value:
            return "Model"
        return None
    return getattr(value, "type", None) or ("reuse" if hasattr(value, "reuse") else None)


#: The layer registry as a Kind: `AnyLayer`, a field type (a wrapper's `layer`) whose schema is the tagged
#: union of the layer types registered when it is built (modelspec.schema.build rebuilds it as LAYERS grows).
LAYER_TYPES = Kind("layers", lambda: LAYERS, lambda members: tagged_union(members, entry_tag))
AnyLayer = LAYER_TYPES.field

__all__ = ["LAYERS", "LAYER_TYPES", "AnyLayer", "LayerConfig", "Shape", "Weight", "auto_name_base", "entry_tag", "format_shape", "load_all_layers", "load_layer_types", "module_of", "register"]
