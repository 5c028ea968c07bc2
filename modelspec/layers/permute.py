"""Permute: reorder the axes of the input, batch axis excluded; `dims` counts from 1.

    - {type: Permute, dims: [2, 1]}        # (None, 10, 64) -> (None, 64, 10)
    - {type: Permute, dims: [3, 1, 2]}     # (None, 2, 3, 4) -> (None, 4, 2, 3)
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from modelspec.config import PositiveInt
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register


@register
class Permute(LayerConfig):
    """(batch, d1, ..., dn) -> (batch, d[dims[0]], ..., d[dims[n-1]]); the input has rank len(dims) + 1."""

    type: Literal["Permute"]
    dims: Annotated[list[PositiveInt], Field(min_length=1)] = Field(
        description="The new order of the axes 1..n (1 is the first axis after the batch axis), e.g. [2, 1]."
    )

    family = "reshaping"

    @field_validator("dims")
    @classmethod
    def _check_permutation(cls, value: list[int]) -> list[int]:
        if sorted(value) != list(range(1, len(value) + 1)):
            raise ValueError(
                f"Invalid permutation `dims`: expected each of 1 to {len(value)} exactly once (1-based, batch axis excluded), received dims={value}"
            )
        return value

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.expect_rank(input_shape, len(self.dims) + 1)
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.permute:PermuteModule", (0, *self.dims))
