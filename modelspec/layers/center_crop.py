"""CenterCrop: the central (height, width) window of each image, as keras.layers.CenterCrop.

    - {type: CenterCrop, height: 24, width: 24}          # (None, 32, 32, 3) -> (None, 24, 24, 3)

An image smaller than the window on either side is resized instead, as Keras does: the largest
centred window of the target aspect ratio, resized bilinearly (keras.utils.smart_resize).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_image_preprocessing import ImageLayer, ImageSize


@register
class CenterCrop(ImageLayer):
    """The central (height, width) window: (batch, h, w, channels) -> (batch, height, width, channels)."""

    type: Literal["CenterCrop"]
    height: ImageSize = Field(description="Height of the window.")
    width: ImageSize = Field(description="Width of the window.")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.image_size(input_shape)
        return self.with_size(input_shape, self.height, self.width)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.image_preprocessing:KerasCenterCrop", self.height, self.width, channels_first=self.channels_first())
