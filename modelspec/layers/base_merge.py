"""What the merging layers (Add, Concatenate, ...) share: a list of inputs, and messages about sizes.

The graph names each input with its shape before a layer's message ("layer 'sum' (Add) on a (None, 4)
and b (None, 5): sizes 4 and 5 differ on the last axis; ..."), so a message here quotes only the sizes at fault.

Not a layer type itself (no `type`, not registered). `ElementwiseMerge` is the base of Subtract,
Multiply, Average, Maximum and Minimum: Keras's broadcasting rule and one torch module.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record


class MergeLayer(LayerConfig):
    """Base of the merging layers: called on a list of one or more tensors (Keras 3 accepts one)."""

    arity = (1, None)
    family = "merging"
    propagates_mask = True

    def check_inputs(self, input_shapes: list[Shape]) -> None:
        if not input_shapes:
            raise ShapeError(f"{self.layer_type} takes a list of at least 1 input, received none")
        fewest, most = self.arity
        if most is not None and fewest == most and len(input_shapes) != most:
            raise ShapeError(f"expected exactly {most} inputs, received {len(input_shapes)}")
        batches = [shape[0] for shape in input_shapes if shape]
        if len(set(batches) - {None}) > 1:
            raise ShapeError(f"batch sizes {listed(batches)} differ; expected equal batch sizes (or None)")

    def known_batch(self, input_shapes: list[Shape]) -> int | None:
        """The known batch size of the inputs (check_inputs made sure they agree), else None."""
        batches = {shape[0] for shape in input_shapes if shape} - {None}
        return batches.pop() if batches else None


class ElementwiseMerge(MergeLayer):
    """Elementwise operation on tensors of broadcast-compatible shapes.

    Shapes without the batch axis are aligned on the right; sizes must be equal or 1 (None gives None).
    A lower-rank input gets size-1 axes inserted after the batch axis: (None, 4) with (None, 3, 4) -> (None, 3, 4).
    """

    #: The torch operation (modelspec.nn.merge.OPERATIONS).
    operation: ClassVar[Literal["add", "subtract", "multiply", "average", "maximum", "minimum"]]

    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        self.check_inputs(input_shapes)
        result: Shape = tuple(input_shapes[0][1:])
        for shape in input_shapes[1:]:
            result = broadcast(result, tuple(shape[1:]))
        return [(self.known_batch(input_shapes), *result)]

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.merge:ElementwiseMergeModule", self.operation)


def broadcast(a: Shape, b: Shape) -> Shape:
    """Keras's rule on shapes without the batch axis: right-aligned, the shorter padded with 1s on the left;
    sizes equal or 1, and None on either side gives None. (3, 4) with (4,) -> (3, 4)."""
    rank = max(len(a), len(b))
    a, b = (1,) * (rank - len(a)) + tuple(a), (1,) * (rank - len(b)) + tuple(b)
    merged: list[int | None] = []
    for axis, (i, j) in enumerate(zip(a, b), start=1):
        if i is not None and j is not None and 1 not in (i, j) and i != j:
            where = "the last axis" if axis == rank else f"axis {axis}"
            raise ShapeError(f"sizes {i} and {j} differ on {where}; expected equal sizes, or 1 (the shapes are aligned on the right)")
        merged.append(None if i is None or j is None else j if i == 1 else i)
    return tuple(merged)


def listed(values: list) -> str:
    """'3', '3 and 5', '2, 2 and 3': each input's value, in input order."""
    parts = [str(v) for v in values]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
