"""PReLU: a leaky ReLU whose negative slope alpha is learned, one per input entry or shared along axes.

    - {type: PReLU}                              # (None, 10): alpha (10,), 10 params
    - {type: PReLU, shared_axes: [1, 2]}         # (None, 32, 32, 16): alpha (1, 1, 16), 16 params

alpha has the input's shape without the batch axis, with size 1 on `shared_axes` (whose sizes may
be unknown); every other size must be known.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import PositiveInt
from modelspec.errors import ShapeError
from modelspec.initializers import InitializerName
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, Weight, format_shape, module_record, register
from modelspec.layers.base_named_regularizers import NamedWeightRegularized
from modelspec.regularizers import Constraint, Regularizer


@register
class PReLU(NamedWeightRegularized, LayerConfig):
    """relu(x) - alpha * relu(-x); the shape is unchanged."""

    type: Literal["PReLU"]
    alpha_initializer: InitializerName = Field("zeros", description="Initializer of alpha (Keras: zeros, i.e. a plain relu at first).")
    alpha_regularizer: Regularizer | None = Field(None, description="Penalty on alpha added to the loss.")
    alpha_constraint: Constraint | None = Field(None, description="Projection of alpha after each update.")
    shared_axes: PositiveInt | list[PositiveInt] | None = Field(
        None, description="Axes (1 = first after the batch) along which alpha is shared, e.g. [1, 2] for one alpha per image channel."
    )

    family = "activation"
    propagates_mask = True

    def penalized_weights(self) -> tuple[str, ...]:
        return ("alpha",)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.alpha_shape(input_shape)
        return input_shape

    def alpha_shape(self, input_shape: Shape) -> tuple[int, ...]:
        shared = {self.shared_axes} if isinstance(self.shared_axes, int) else set(self.shared_axes or ())
        rank = len(input_shape)
        if rank < 2:
            self.expect_rank(input_shape, 2)
        if any(a >= rank for a in shared):
            raise ShapeError(
                f"PReLU shared_axes {self.shared_axes} do not fit the input shape {format_shape(input_shape)}: "
                f"expected axes in 1..{rank - 1}"
            )
        sizes = [1 if a in shared else input_shape[a] for a in range(1, rank)]
        if None in sizes:
            raise ShapeError(
                f"PReLU needs known sizes on the axes that are not shared, received shape {format_shape(input_shape)} "
                f"with shared_axes={self.shared_axes}"
            )
        return tuple(sizes)

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        return {"alpha": Weight(self.alpha_shape(self.single(input_shapes)))}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.advanced_activations:KerasPReLU", self.alpha_shape(self.single(input_shapes)), alpha_initializer=self.alpha_initializer)
