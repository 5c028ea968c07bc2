"""Activation: apply an activation function to its input.

    - {type: Activation, activation: relu}
    - {type: Activation, activation: softmax, name: probabilities}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.activations import ActivationName
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register


@register
class Activation(LayerConfig):
    """Applies `activation` elementwise (softmax over the last axis); the shape is unchanged.

    The module is an identity and the compiled graph applies the activation after it, as for
    Dense's `activation`: a softmax Activation at the output still lets training use the logits.
    """

    type: Literal["Activation"]
    activation: ActivationName = Field(description="Name of the activation function, as Keras spells it.")

    family = "core"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def output_activation(self) -> str | None:
        return self.activation

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("torch.nn:Identity")
