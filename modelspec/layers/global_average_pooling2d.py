"""GlobalAveragePooling2D: average over height and width (channels_last).

    - {type: GlobalAveragePooling2D}                   # (None, 7, 7, 512) -> (None, 512)
    - {type: GlobalAveragePooling2D, keepdims: true}   # (None, 7, 7, 512) -> (None, 1, 1, 512)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import LayerConfig, Shape, register


@register
class GlobalAveragePooling2D(LayerConfig):
    """(batch, height, width, channels) -> (batch, channels), or (batch, 1, 1, channels) with keepdims."""

    type: Literal["GlobalAveragePooling2D"]
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, height, width, channels).")
    keepdims: bool = Field(False, description="Keep the pooled axes with size 1.")

    family = "pooling"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.expect_rank(input_shape, 4)
        batch, channels = input_shape[0], input_shape[3]
        return (batch, 1, 1, channels) if self.keepdims else (batch, channels)

    def build(self, input_shapes: list[Shape]):
        from modelspec.nn.global_average_pooling2d import GlobalAveragePooling2DModule

        return GlobalAveragePooling2DModule(keepdims=self.keepdims)
