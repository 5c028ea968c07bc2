"""UnitNormalization: scale each sample to an L2 norm of 1 across `axis`.

    - {type: UnitNormalization}                  # over the last axis
    - {type: UnitNormalization, axis: [1, 2]}

Keras's formula: x / sqrt(max(sum(x^2), 1e-12)). No weights.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register
from modelspec.layers.base_normalization import Axes, resolve_axes


@register
class UnitNormalization(LayerConfig):
    """x / ||x|| over `axis`, per sample."""

    type: Literal["UnitNormalization"]
    axis: Axes = Field(-1, description="The axis or axes to normalize across (-1: the last).")

    family = "normalization"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        resolve_axes(self, self.axis, input_shape)
        return input_shape

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.normalization:KerasUnitNormalization", resolve_axes(self, self.axis, self.single(input_shapes)))
