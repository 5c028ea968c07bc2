"""ReLU: the rectified linear unit as a layer, with Keras's ceiling, slope and threshold.

    - {type: ReLU}                                  # max(x, 0)
    - {type: ReLU, max_value: 6.0}                  # relu6
    - {type: ReLU, negative_slope: 0.1, threshold: 1.0}

Keras's formula: max_value for x >= max_value, x for threshold < x < max_value (x for
threshold <= x without a threshold), negative_slope * (x - threshold) otherwise.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register
from modelspec.regularizers import NonNegative


@register
class ReLU(LayerConfig):
    """Elementwise; the shape is unchanged. Plain relu, relu6 and leaky_relu (slope 0.2) run as the named activation."""

    type: Literal["ReLU"]
    max_value: NonNegative | None = Field(None, description="Largest output value, >= 0; null: no ceiling.")
    negative_slope: NonNegative = Field(0.0, description="Slope below the threshold, >= 0.")
    threshold: NonNegative = Field(0.0, description="Inputs up to this value are damped (slope) or set to zero, >= 0.")

    family = "activation"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def output_activation(self) -> str | None:
        if self.threshold != 0.0:
            return None
        named = {(0.0, None): "relu", (0.0, 6.0): "relu6", (0.2, None): "leaky_relu"}
        return named.get((self.negative_slope, self.max_value))

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        if self.output_activation() is not None:
            return module_record("torch.nn:Identity")
        return module_record("modelspec.nn.advanced_activations:KerasReLU", self.max_value, self.negative_slope, self.threshold)
