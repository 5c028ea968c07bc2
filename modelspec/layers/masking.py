"""Masking: mark the steps whose features all equal mask_value as padding, for the layers that follow.

    - {type: Masking, mask_value: 0.0, input_shape: [null, 8]}
    - {type: LSTM, units: 16}                     # skips the masked steps

The output is the input with the masked steps zeroed (Keras). The mask (batch, steps) is True
where any feature differs from mask_value; layers that support masking receive it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, format_shape, module_record, register


@register
class Masking(LayerConfig):
    """(batch, steps, features) -> same shape, plus a (batch, steps) mask."""

    type: Literal["Masking"]
    mask_value: Annotated[float, Field(allow_inf_nan=False)] = Field(
        0.0, description="A step is masked when every feature of it equals this value."
    )

    family = "core"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 2:
            raise ShapeError(f"Masking expects an input of rank 2 or more (batch, steps, ...), received shape {format_shape(input_shape)}")
        return input_shape

    def produces_mask(self) -> bool:
        return True

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.masking:KerasMasking", self.mask_value)
