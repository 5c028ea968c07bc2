"""Flatten: flatten every axis but the batch axis.

    - {type: Flatten}      # (None, 7, 7, 64) -> (None, 3136)
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register


@register
class Flatten(LayerConfig):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...); unknown when any dimension is unknown; (batch,) -> (batch, 1)."""

    type: Literal["Flatten"]
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (Keras's default).")

    family = "reshaping"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        size = None if None in rest else math.prod(rest)
        return (input_shape[0] if input_shape else None, size)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.reshape:KerasReshape", (-1,))
