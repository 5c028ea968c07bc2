"""ELU: the exponential linear unit as a layer: x for x > 0, alpha * (exp(x) - 1) below.

    - {type: ELU}
    - {type: ELU, alpha: 0.5}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register


@register
class ELU(LayerConfig):
    """Elementwise; the shape is unchanged. alpha = 1 runs as the `elu` activation."""

    type: Literal["ELU"]
    alpha: Annotated[float, Field(allow_inf_nan=False)] = Field(1.0, description="Scale of the negative section.")

    family = "activation"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def output_activation(self) -> str | None:
        return "elu" if self.alpha == 1.0 else None

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        if self.output_activation() is not None:
            return module_record("torch.nn:Identity")
        return module_record("modelspec.nn.advanced_activations:KerasELU", self.alpha)
