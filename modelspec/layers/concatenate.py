"""Concatenate: join a list of tensors along one axis.

    - {type: Concatenate, inputs: [text_features, image_features]}          # (None, 10) + (None, 4) -> (None, 14)
    - {type: Concatenate, axis: 1, inputs: [a, b]}                          # (None, 3, 8) + (None, 5, 8) -> (None, 8, 8)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.errors import ShapeError
from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_merge import MergeLayer, listed


@register
class Concatenate(MergeLayer):
    """All inputs have the same rank and the same sizes except along `axis` (None matches any size)."""

    type: Literal["Concatenate"]
    axis: int = Field(-1, description="Axis to concatenate along; negative counts from the end; not the batch axis (0).")

    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        self.check_inputs(input_shapes)
        ranks = {len(shape) for shape in input_shapes}
        if len(ranks) > 1:
            raise ShapeError(f"the ranks differ ({listed([len(shape) for shape in input_shapes])}); expected inputs of the same rank")
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ShapeError(f"axis={self.axis} is out of range for inputs of rank {rank}")
        axis = self.axis % rank
        if axis == 0:
            raise ShapeError("axis=0 is the batch axis; expected a feature axis")
        result: list[int | None] = []
        for i, sizes in enumerate(zip(*input_shapes)):
            if i == axis:
                result.append(None if None in sizes else sum(sizes))
                continue
            known = set(sizes) - {None}
            if len(known) > 1:
                raise ShapeError(f"sizes {listed(list(sizes))} differ on axis {i}; expected equal sizes except on the concatenation axis {axis}")
            result.append(known.pop() if known else None)
        return [tuple(result)]

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.concatenate:ConcatenateModule", self.axis % len(input_shapes[0]))
