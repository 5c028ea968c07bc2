"""Dense: a densely-connected layer over the last axis.

    - {type: Dense, units: 64, activation: relu}
    - {type: Dense, units: 32, input_dim: 784}     # first layer of a sequential model
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.activations import ActivationName
from modelspec.config import PositiveInt
from modelspec.errors import ShapeError
from modelspec.initializers import InitializerName
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, Weight, format_shape, module_record, register
from modelspec.regularizers import Regularized


@register
class Dense(Regularized, LayerConfig):
    """Densely-connected layer: activation(x @ kernel + bias), applied over the last axis."""

    type: Literal["Dense"]
    units: PositiveInt = Field(description="Dimensionality of the output space.")
    activation: ActivationName = Field("linear", description="Activation applied to the output.")
    use_bias: bool = Field(True, description="Whether the layer has a bias vector.")
    kernel_initializer: InitializerName = Field("glorot_uniform", description="Initializer of the kernel.")
    bias_initializer: InitializerName = Field("zeros", description="Initializer of the bias.")
    input_dim: PositiveInt | None = Field(None, description="First layer only: input features, same as input_shape: [input_dim].")

    family = "core"
    propagates_mask = True
    input_declaration_keys = ("input_dim",)

    def declared_feature_shape(self) -> tuple[int, ...] | None:
        return None if self.input_dim is None else (self.input_dim,)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 2:
            self.expect_rank(input_shape, 2)
        return (*input_shape[:-1], self.units)

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        shape = self.single(input_shapes)
        if shape[-1] is None:
            raise ShapeError(f"Dense needs a known last input dimension (the features), received shape {format_shape(shape)}")
        features = shape[-1]
        found = {"kernel": Weight((self.units, features))}
        if self.use_bias:
            found["bias"] = Weight((self.units,))
        return found

    def output_activation(self) -> str | None:
        return self.activation

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.dense:KerasDense",
            self.single(input_shapes)[-1],
            self.units,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
        )
