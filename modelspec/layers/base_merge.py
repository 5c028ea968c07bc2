"""What the merging layers (Add, Concatenate, ...) share: a list of inputs, and messages that quote every shape.

Not a layer type itself (no `type`, not registered). `ElementwiseMerge` is the base of Subtract,
Multiply, Average, Maximum and Minimum: Keras's broadcasting rule and one torch module.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, format_shape, module_record


class MergeLayer(LayerConfig):
    """Base of the merging layers: called on a list of one or more tensors (Keras 3 accepts one)."""

    arity = (1, None)
    family = "merging"
    propagates_mask = True

    def shapes_error(self, input_shapes: list[Shape], problem: str) -> ShapeError:
        """ShapeError "Add on (None, 10) and (None, 4, 4): <problem>"."""
        return ShapeError(f"{self.layer_type} on {format_shapes(input_shapes)}: {problem}")

    def check_inputs(self, input_shapes: list[Shape]) -> None:
        if not input_shapes:
            raise ShapeError(f"{self.layer_type} takes a list of at least 1 input, received none")
        fewest, most = self.arity
        if most is not None and fewest == most and len(input_shapes) != most:
            raise self.shapes_error(input_shapes, f"expected exactly {most} inputs, received {len(input_shapes)}")
        batches = {shape[0] for shape in input_shapes if shape} - {None}
        if len(batches) > 1:
            raise self.shapes_error(input_shapes, "the batch sizes differ")

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
            result = self.broadcast(result, tuple(shape[1:]), input_shapes)
        return [(self.known_batch(input_shapes), *result)]

    def broadcast(self, a: Shape, b: Shape, input_shapes: list[Shape]) -> Shape:
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

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.merge:ElementwiseMergeModule", self.operation)


def format_shapes(shapes: list[Shape]) -> str:
    """'(None, 10)', '(None, 10) and (None, 4)', '(None, 1), (None, 2) and (None, 3)'."""
    parts = [format_shape(s) for s in shapes]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
