"""What the normalization layers share: gamma and beta with Keras's arguments, and axis checks.

Not a layer type itself (no `type`, not registered).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from modelspec.errors import ShapeError
from modelspec.initializers import InitializerName
from modelspec.layers.base import LayerConfig, Shape, format_shape
from modelspec.layers.base_named_regularizers import NamedWeightRegularized
from modelspec.regularizers import Constraint, Regularizer

#: Keras's epsilon: a small positive float added to the variance.
Epsilon = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
#: One axis, or a non-empty list of distinct axes (negative counts from the end).
Axes = int | Annotated[list[int], Field(min_length=1)]


class GammaBetaLayer(NamedWeightRegularized, LayerConfig):
    """Base of BatchNormalization, LayerNormalization and GroupNormalization: output = normalized * gamma + beta."""

    axis: Axes = Field(-1, description="The axis or axes of the features (-1: the last).")
    epsilon: Epsilon = Field(1e-3, description="Small float added to the variance to avoid dividing by zero.")
    center: bool = Field(True, description="Add the learned offset beta.")
    scale: bool = Field(True, description="Multiply by the learned scale gamma.")
    beta_initializer: InitializerName = Field("zeros", description="Initializer of beta.")
    gamma_initializer: InitializerName = Field("ones", description="Initializer of gamma.")
    beta_regularizer: Regularizer | None = Field(None, description="Penalty on beta added to the loss.")
    gamma_regularizer: Regularizer | None = Field(None, description="Penalty on gamma added to the loss.")
    beta_constraint: Constraint | None = Field(None, description="Projection of beta after each update.")
    gamma_constraint: Constraint | None = Field(None, description="Projection of gamma after each update.")

    family = "normalization"
    propagates_mask = True

    def penalized_weights(self) -> tuple[str, ...]:
        return (("gamma",) if self.scale else ()) + (("beta",) if self.center else ())

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.positive_axes(input_shape)
        return input_shape

    def positive_axes(self, input_shape: Shape) -> tuple[int, ...]:
        """The axes in `axis` as non-negative indices, in the given order; each must exist and not be the batch axis."""
        return resolve_axes(self, self.axis, input_shape)

    def known_sizes(self, input_shape: Shape) -> tuple[int, ...]:
        """The sizes along `axis` (the shape of gamma and beta), which must be known."""
        axes = self.positive_axes(input_shape)
        if any(input_shape[a] is None for a in axes):
            raise ShapeError(
                f"{self.layer_type} needs a known size on axis {self.axis}, received shape {format_shape(input_shape)}"
            )
        return tuple(input_shape[a] for a in axes)


def resolve_axes(layer: LayerConfig, axis: int | list[int], input_shape: Shape) -> tuple[int, ...]:
    """Non-negative axes of `input_shape` (batch first) for Keras's `axis`; ShapeError quoting the shape otherwise."""
    rank = len(input_shape)
    given = [axis] if isinstance(axis, int) else list(axis)
    resolved = []
    for a in given:
        if not -rank <= a < rank:
            raise ShapeError(
                f"{layer.layer_type} axis {a} is out of range for the input shape {format_shape(input_shape)}: "
                f"expected an axis in [{1 - rank}, {rank - 1}] other than the batch axis"
            )
        resolved.append(a % rank)
    if 0 in resolved:
        raise ShapeError(
            f"{layer.layer_type} axis {axis} is the batch axis of the input shape {format_shape(input_shape)}: "
            f"expected axes in 1..{rank - 1} (or -1..{1 - rank})"
        )
    if len(set(resolved)) != len(resolved):
        raise ShapeError(f"{layer.layer_type} axis {axis} names the same axis twice for the input shape {format_shape(input_shape)}")
    return tuple(resolved)
