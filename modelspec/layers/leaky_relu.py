"""LeakyReLU: x for x >= 0, negative_slope * x below (Keras 3 layer default 0.3).

    - {type: LeakyReLU}                         # slope 0.3
    - {type: LeakyReLU, negative_slope: 0.1}
    - {type: LeakyReLU, alpha: 0.1}             # Keras 2 name of negative_slope

Note the `leaky_relu` activation name defaults to 0.2 (Keras's function), the layer to 0.3.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register
from modelspec.regularizers import NonNegative


@register
class LeakyReLU(LayerConfig):
    """Elementwise; the shape is unchanged. A slope of 0.2 runs as the `leaky_relu` activation."""

    type: Literal["LeakyReLU"]
    negative_slope: NonNegative = Field(0.3, description="Slope for negative inputs, >= 0.")
    alpha: NonNegative | None = Field(None, description="Keras 2 name of negative_slope (deprecated in Keras 3).")

    family = "activation"
    propagates_mask = True

    @model_validator(mode="after")
    def _one_slope(self) -> LeakyReLU:
        if self.alpha is not None and "negative_slope" in self.model_fields_set:
            raise ValueError(
                f"give negative_slope or its Keras 2 name alpha, not both (received negative_slope={self.negative_slope}, alpha={self.alpha})"
            )
        return self

    @property
    def slope(self) -> float:
        return self.negative_slope if self.alpha is None else self.alpha

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def output_activation(self) -> str | None:
        return "leaky_relu" if self.slope == 0.2 else None

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        if self.output_activation() is not None:
            return module_record("torch.nn:Identity")
        return module_record("modelspec.nn.advanced_activations:KerasLeakyReLU", self.slope)
