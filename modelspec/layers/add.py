"""Add: elementwise sum of a list of tensors, broadcast like Keras's merge layers.

    - {type: Add, inputs: [residual, shortcut]}

Shapes without the batch axis are aligned on the right; sizes must be equal or 1. A lower-rank input
gets size-1 axes inserted after the batch axis: (None, 4) + (None, 3, 4) -> (None, 3, 4).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import Shape, register
from modelspec.layers.base_merge import MergeLayer


@register
class Add(MergeLayer):
    """Sum of one or more tensors of broadcast-compatible shapes."""

    type: Literal["Add"]

    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        self.check_inputs(input_shapes)
        result: tuple[int | None, ...] = tuple(input_shapes[0][1:])
        for shape in input_shapes[1:]:
            result = self._broadcast(result, tuple(shape[1:]), input_shapes)
        batches = {shape[0] for shape in input_shapes} - {None}
        return [(batches.pop() if batches else None, *result)]

    def _broadcast(self, a: Shape, b: Shape, input_shapes: list[Shape]) -> Shape:
        """Keras's rule on shapes without the batch axis: right-aligned; a None on either side gives None."""
        if len(a) < len(b):
            a, b = b, a
        lead, tail = a[: len(a) - len(b)], a[len(a) - len(b) :]
        merged: list[int | None] = []
        for i, j in zip(tail, b):
            if i is None or j is None:
                merged.append(None)
            elif i == 1 or j == 1 or i == j:
                merged.append(j if i == 1 else i)
            else:
                raise self.shapes_error(
                    input_shapes, f"incompatible sizes {i} and {j}; expected equal sizes or 1 after aligning the shapes on the right"
                )
        return (*lead, *merged)

    def build(self, input_shapes: list[Shape]):
        from modelspec.nn.add import AddModule

        return AddModule()
