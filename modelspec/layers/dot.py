"""Dot: batchwise dot product of two tensors along one axis of each, as Keras's `batch_dot`.

    - {type: Dot, axes: 1, inputs: [query, key]}                          # (None, 8) . (None, 8) -> (None, 1)
    - {type: Dot, axes: [1, 2], normalize: true, inputs: [a, b]}          # (None, 3, 5) . (None, 10, 3) -> (None, 5, 10)

The output shape is the first input's shape without its `axes[0]` axis, followed by the second's without
its batch axis and its `axes[1]` axis; a result of rank 1 becomes (batch, 1). With `normalize`, both inputs
are L2-normalised along their dot axis first, so the output is the cosine similarity.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from modelspec.errors import ShapeError
from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_merge import MergeLayer, listed


@register
class Dot(MergeLayer):
    """Dot product of exactly two tensors (rank 2 or more, batch included) along `axes`."""

    type: Literal["Dot"]
    axes: int | Annotated[list[int], Field(min_length=2, max_length=2)] = Field(
        description="Axis of both inputs to sum over, or [axis of the first, axis of the second]; negative counts from the end; never 0 (batch)."
    )
    normalize: bool = Field(False, description="L2-normalise both inputs along the dot axes first (output = cosine similarity).")

    arity = (2, 2)
    propagates_mask = False  # Keras's Dot returns no mask

    @field_validator("axes")
    @classmethod
    def _not_batch(cls, value: int | list[int]) -> int | list[int]:
        if 0 in ([value] if isinstance(value, int) else value):
            raise ValueError(f"axes may not include 0, the batch axis; expected feature axes (1, 2, ... or -1, -2, ...), received axes={value}")
        return value

    def resolved_axes(self, input_shapes: list[Shape]) -> tuple[int, int]:
        """The two dot axes as non-negative indices into each input's shape."""
        wanted = (self.axes, self.axes) if isinstance(self.axes, int) else tuple(self.axes)
        axes = []
        for which, axis, shape in zip(("first", "second"), wanted, input_shapes):
            if not -len(shape) <= axis < len(shape) or axis % len(shape) == 0:
                raise ShapeError(
                    f"axis {axis} of the {which} input is not a feature axis of a rank-{len(shape)} shape; expected 1 to {len(shape) - 1} or -1 to -{len(shape) - 1}"
                )
            axes.append(axis % len(shape))
        return axes[0], axes[1]

    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        self.check_inputs(input_shapes)
        x, y = input_shapes
        if len(x) < 2 or len(y) < 2:
            raise ShapeError(f"the ranks are {listed([len(x), len(y)])}; expected inputs of rank 2 or more (batch included)")
        a, b = self.resolved_axes(input_shapes)
        if x[a] is not None and y[b] is not None and x[a] != y[b]:
            raise ShapeError(
                f"axes={self.axes} pairs size {x[a]} (axis {a} of the first input) with size {y[b]} (axis {b} of the second); expected equal sizes",
            )
        rest = [*x[1:a], *x[a + 1 :], *y[1:b], *y[b + 1 :]]
        return [(self.known_batch(input_shapes), *(rest or [1]))]

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.dot:DotModule", self.resolved_axes(input_shapes), normalize=self.normalize)
