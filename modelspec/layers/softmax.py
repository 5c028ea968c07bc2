"""Softmax: the softmax activation as a layer, over one axis or jointly over several.

    - {type: Softmax}                   # over the last axis
    - {type: Softmax, axis: 1}
    - {type: Softmax, axis: [1, 2]}     # one distribution over both axes

Over the last axis it runs as the `softmax` activation, so that a Softmax output layer still lets
training use the logits.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register
from modelspec.layers.base_normalization import Axes, resolve_axes


@register
class Softmax(LayerConfig):
    """exp(x) / sum(exp(x)) over `axis`; the shape is unchanged."""

    type: Literal["Softmax"]
    axis: Axes = Field(-1, description="The axis or axes the softmax normalizes over (-1: the last).")

    family = "activation"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        resolve_axes(self, self.axis, input_shape)
        return input_shape

    def output_activation(self) -> str | None:
        return "softmax" if self.axis in (-1, [-1]) else None

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        if self.output_activation() is not None:
            return module_record("torch.nn:Identity")
        return module_record("modelspec.nn.advanced_activations:KerasSoftmax", resolve_axes(self, self.axis, self.single(input_shapes)))
