"""Reshape: give the input a new shape (batch axis kept); one dimension may be -1 (inferred).

    - {type: Reshape, target_shape: [28, 28, 1]}    # (None, 784) -> (None, 28, 28, 1)
    - {type: Reshape, target_shape: [-1, 2, 2]}     # (None, 12)  -> (None, 3, 2, 2)
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator

from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, format_shape, module_record, register


@register
class Reshape(LayerConfig):
    """(batch, ...) -> (batch, *target_shape); the element count must not change."""

    type: Literal["Reshape"]
    target_shape: list[Annotated[int, Field(ge=-1)]] = Field(
        description="Target shape without the batch dimension; at most one -1, inferred from the element count."
    )

    family = "reshaping"

    @field_validator("target_shape")
    @classmethod
    def _check_target(cls, value: list[int]) -> list[int]:
        if value.count(-1) > 1:
            raise ValueError(f"target_shape may contain at most one -1, received {value}")
        if 0 in value:
            raise ValueError(f"target_shape sizes must be positive (or one -1), received {value}")
        return value

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        rest = input_shape[1:]
        target = list(self.target_shape)
        count = None if None in rest else math.prod(rest)
        known = math.prod(d for d in target if d != -1)
        if count is not None:
            fits = count % known == 0 if -1 in target else count == known
            if not fits:
                wanted = "a multiple of " + str(known) if -1 in target else str(known)
                raise ShapeError(
                    f"Reshape cannot reshape an input of shape {format_shape(input_shape)} into target_shape "
                    f"{format_shape(tuple(target))}: the input holds {count} elements per sample, the target {wanted}"
                )
        if -1 in target:
            target[target.index(-1)] = None if count is None else count // known
        return (input_shape[0] if input_shape else None, *target)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.reshape:KerasReshape", tuple(self.target_shape))
