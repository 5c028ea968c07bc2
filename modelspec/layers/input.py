"""Input: Keras 3's way to start a Sequential model, `keras.Input(shape=...)` as its first entry.

    sequential:
      - {type: Input, shape: [784]}
      - {type: Dense, units: 64}

It declares the model's input and makes no node; a functional model lists its inputs under `inputs:`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import Dimension
from modelspec.layers.base import LayerConfig, Shape, register


@register
class Input(LayerConfig):
    """The input of a sequential model: shape without the batch, dtype, optional fixed batch_size."""

    type: Literal["Input"]
    shape: list[Dimension] = Field(description="Shape without the batch dimension; null is any size.")
    dtype: Literal["float32", "float64", "int32", "int64", "bool"] = Field("float32", description="Element type of the input data.")

    family = "core"

    def declared_input_shape(self) -> Shape | None:
        return (self.batch_size, *self.shape)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape
