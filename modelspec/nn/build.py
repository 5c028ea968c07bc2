"""Module records -> torch modules: the one place where a layer's `ModuleRecord` is instantiated.

A layer config says which module to make (`LayerConfig.module(input_shapes)`: the class's import
path and its constructor arguments, modelspec.layers.base.ModuleRecord); `instantiate` imports the
class named by the record's target and calls it, after instantiating the records among its
arguments (a wrapped layer's module).

    instantiate(ModuleRecord("modelspec.nn.dense:KerasDense", (784, 64)))   # KerasDense(784, 64)
    build_layer(dense_config, [(None, 784)])                                # the same, from the config
"""

from __future__ import annotations

import pkgutil
from typing import TYPE_CHECKING, Any

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape

if TYPE_CHECKING:  # pragma: no cover
    from torch import nn


def target_class(target: str) -> type[nn.Module]:
    """The class a record's target names: "torch.nn:Identity" -> torch.nn.Identity."""
    if target.count(":") != 1:
        raise ValueError(f"a module record's target is 'module:Class', received {target!r}")
    return pkgutil.resolve_name(target)


def instantiate(record: ModuleRecord) -> nn.Module:
    """The torch module of `record`: its class called on its arguments (records among them instantiated first)."""
    args = [_value(value) for value in record.args]
    kwargs = {name: _value(value) for name, value in record.kwargs.items()}
    return target_class(record.target)(*args, **kwargs)


def _value(value: Any) -> Any:
    if isinstance(value, ModuleRecord):
        return instantiate(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_value(item) for item in value)
    return value


def build_layer(config: LayerConfig, input_shapes: list[Shape]) -> nn.Module:
    """The torch module of a layer config for these inputs (a nested model stays the empty placeholder)."""
    return instantiate(config.module(input_shapes))


__all__ = ["build_layer", "instantiate", "target_class"]
