"""Activation: apply an activation function to its input.

    - {type: Activation, activation: relu}
    - {type: Activation, activation: softmax, name: probabilities}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.activations import ActivationName
from modelspec.layers.base import LayerConfig, Shape, register


@register
class Activation(LayerConfig):
    """Applies `activation` elementwise (softmax over the last axis); the shape is unchanged.

    The built module applies the activation itself (`output_activation()` stays None).
    """

    type: Literal["Activation"]
    activation: ActivationName = Field(description="Name of the activation function, as Keras spells it.")

    family = "core"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def build(self, input_shapes: list[Shape]):
        from modelspec.nn.activation import KerasActivation

        return KerasActivation(self.activation)
