"""RepeatVector: repeat a vector n times along a new time axis.

    - {type: RepeatVector, n: 3}       # (None, 32) -> (None, 3, 32)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import PositiveInt
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register


@register
class RepeatVector(LayerConfig):
    """(batch, features) -> (batch, n, features)."""

    type: Literal["RepeatVector"]
    n: PositiveInt = Field(description="How many times the input is repeated.")

    family = "reshaping"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.expect_rank(input_shape, 2)
        return (input_shape[0], self.n, input_shape[1])

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.repeat_vector:RepeatVectorModule", self.n)
