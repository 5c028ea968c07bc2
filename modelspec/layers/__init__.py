"""The layer registry: every module in this package registers one layer type.

Adding a layer type is adding one file here with a `@register`ed config class. The tagged
union of all layer configs (`AnyLayer`) is built once, after every module has registered.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Annotated, Any, Union

from pydantic import Discriminator, Tag

from modelspec.layers.base import (
    LAYERS,
    LayerConfig,
    Shape,
    Weight,
    auto_name_base,
    format_shape,
    register,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")


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


def tagged_union(members: dict[str, type]) -> Any:
    """A pydantic tagged union over `members` (tag -> class), dispatched by `entry_tag`."""
    choices = tuple(Annotated[cls, Tag(tag)] for tag, cls in members.items())
    return Annotated[Union[choices], Discriminator(entry_tag)]


AnyLayer = tagged_union(LAYERS)


def _publish_union() -> None:
    """Wrappers annotate their `layer` field as "AnyLayer"; pydantic resolves the name in the wrapper's
    module when it builds the (deferred) schema on first use."""
    for cls in LAYERS.values():
        if getattr(cls, "wraps_layer", False):
            sys.modules[cls.__module__].AnyLayer = AnyLayer


def refresh_union() -> None:
    """Rebuild AnyLayer after plugins registered more layer types (and the wrappers' schemas with it)."""
    global AnyLayer
    AnyLayer = tagged_union(LAYERS)
    _publish_union()
    for cls in LAYERS.values():
        if getattr(cls, "wraps_layer", False):
            for name, optional in cls.layer_fields.items():
                cls.model_fields[name].annotation = AnyLayer | None if optional else AnyLayer
            cls.model_rebuild(force=True)


_publish_union()

__all__ = ["LAYERS", "AnyLayer", "LayerConfig", "Shape", "Weight", "auto_name_base", "format_shape", "register", "tagged_union", "entry_tag"]
