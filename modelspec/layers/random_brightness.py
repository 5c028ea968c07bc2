"""RandomBrightness: a random amount added to each image in training, as keras.layers.RandomBrightness.

    - {type: RandomBrightness, factor: 0.2}                               # +-20% of 255
    - {type: RandomBrightness, factor: [-0.1, 0.3], value_range: [0.0, 1.0], seed: 5}

Per image a draw d from [lower, upper] (f gives [-f, f]; each in [-1, 1]) adds
d * (high - low) to every pixel; the result is clipped to value_range [low, high]. -1 makes the
image black, 1 white. The identity at inference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_image_preprocessing import Factor, RandomValueLayer, ValueRange


@register
class RandomBrightness(RandomValueLayer):
    """Training: x + d * (high - low) per image, clipped to value_range; inference: the identity."""

    type: Literal["RandomBrightness"]
    factor: Factor = Field(description="f in [-1, 1] for [-f, f], or [lower, upper]: the shift as a fraction of the value range.")
    value_range: ValueRange = [0.0, 255.0]

    factor_bounds = (-1.0, 1.0)
    target = "modelspec.nn.image_augmentation:KerasRandomBrightness"
