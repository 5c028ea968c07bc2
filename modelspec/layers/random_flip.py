"""RandomFlip: each image flipped with probability 1/2 in training, as keras.layers.RandomFlip.

    - {type: RandomFlip}                          # horizontal_and_vertical
    - {type: RandomFlip, mode: horizontal, seed: 42}

`horizontal` flips left-right, `vertical` top-bottom. With `horizontal_and_vertical`, Keras 3 draws
once per image and flips both axes together (a half turn) or neither; so does modelspec.
The identity at inference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_image_preprocessing import RandomImageLayer


@register
class RandomFlip(RandomImageLayer):
    """Training: random flips per image; inference: the identity. The shape is unchanged."""

    type: Literal["RandomFlip"]
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = Field(
        "horizontal_and_vertical", description="horizontal (left-right), vertical (top-bottom) or horizontal_and_vertical."
    )

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.image_augmentation:KerasRandomFlip", self.mode, seed=self.seed, channels_first=self.channels_first())
