"""Rescaling: x * scale + offset, e.g. pixel values from [0, 255] to [0, 1] or [-1, 1].

    - {type: Rescaling, scale: 0.00392156862745098}              # 1/255
    - {type: Rescaling, scale: 0.00784313725490196, offset: -1.0}  # 1/127.5 - 1
    - {type: Rescaling, scale: [0.5, 1.0, 2.0], input_shape: [32, 32, 3]}   # per channel (last axis)

Integer inputs are cast to float32. A list broadcasts along the last (channels_last) axis.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, format_shape, module_record, register

Finite = Annotated[float, Field(allow_inf_nan=False)]
Factor = Finite | Annotated[list[Finite], Field(min_length=1)]


@register
class Rescaling(LayerConfig):
    """x * scale + offset; the shape is unchanged."""

    type: Literal["Rescaling"]
    scale: Factor = Field(description="The scale applied to the inputs: a number, or one per entry of the last axis.")
    offset: Factor = Field(0.0, description="The offset added after scaling: a number, or one per entry of the last axis.")

    family = "core"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        for name in ("scale", "offset"):
            value = getattr(self, name)
            if isinstance(value, list) and len(value) != 1:
                last = input_shape[-1] if len(input_shape) > 1 else 1
                if last is not None and last != len(value):
                    raise ShapeError(
                        f"Rescaling {name} has {len(value)} values for the input shape {format_shape(input_shape)}: "
                        f"expected one number, or one per entry of the last axis ({last})"
                    )
        return input_shape

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.rescaling:KerasRescaling", self.scale, self.offset)
