"""The layer registry: every module in this package registers one layer type.

Adding a layer type is adding one file here with a `@register`ed config class.
"""

from __future__ import annotations

import importlib
import pkgutil

from modelspec.layers.base import LAYERS, LayerConfig, Shape, Weight, format_shape, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["LAYERS", "LayerConfig", "Shape", "Weight", "format_shape", "register"]
