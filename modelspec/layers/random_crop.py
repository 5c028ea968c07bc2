"""RandomCrop: a random (height, width) window in training, as keras.layers.RandomCrop.

    - {type: RandomCrop, height: 24, width: 24, seed: 1}     # (None, 32, 32, 3) -> (None, 24, 24, 3)

In training, one window position is drawn per batch (Keras crops a whole batch at one place) when
the images are larger than the window on both sides. Otherwise, and at inference, the images are
smart-resized: the largest centred window of the target aspect ratio, resized bilinearly, as
Keras documents (Keras 3.15 itself returns the uncropped input at inference, which does not have
the layer's output shape).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_image_preprocessing import ImageSize, RandomImageLayer


@register
class RandomCrop(RandomImageLayer):
    """Training: a random (height, width) window per batch; inference: the centre, resized. (batch, height, width, channels) out."""

    type: Literal["RandomCrop"]
    height: ImageSize = Field(description="Height of the window.")
    width: ImageSize = Field(description="Width of the window.")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.image_size(input_shape)
        return self.with_size(input_shape, self.height, self.width)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.image_augmentation:KerasRandomCrop", self.height, self.width, seed=self.seed, channels_first=self.channels_first()
        )
