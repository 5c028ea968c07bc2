"""What the merging layers (Add, Concatenate, ...) share: a list of inputs, and messages that quote every shape.

Not a layer type itself (no `type`, not registered).
"""

from __future__ import annotations

from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, Shape, format_shape


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
        batches = {shape[0] for shape in input_shapes if shape} - {None}
        if len(batches) > 1:
            raise self.shapes_error(input_shapes, "the batch sizes differ")


def format_shapes(shapes: list[Shape]) -> str:
    """'(None, 10)', '(None, 10) and (None, 4)', '(None, 1), (None, 2) and (None, 3)'."""
    parts = [format_shape(s) for s in shapes]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
