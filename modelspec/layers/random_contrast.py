"""RandomContrast: each image's contrast changed by a random factor in training, as keras.layers.RandomContrast.

    - {type: RandomContrast, factor: [0.2, 0.2]}                    # factors in [0.8, 1.2]
    - {type: RandomContrast, factor: 0.3, value_range: [0.0, 1.0]}   # factors in [1.0, 1.3] (see below)

Per image a factor c is drawn from [1 - lower, 1 + upper]; each channel becomes
(x - mean) * c + mean, its mean taken over the image, and the result is clipped to value_range.
A list [lower, upper] (each in [0, 1]) gives [1 - lower, 1 + upper]. A single number f gives
lower = 0, upper = f, as Keras 3.15's code does (its docstring says [1 - f, 1 + f]: write [f, f]
for that). The identity at inference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_image_preprocessing import Factor, RandomValueLayer, ValueRange


@register
class RandomContrast(RandomValueLayer):
    """Training: (x - mean) * factor + mean per image and channel, clipped; inference: the identity."""

    type: Literal["RandomContrast"]
    factor: Factor = Field(description="f in [0, 1] (factors in [1, 1 + f], as Keras 3 draws) or [lower, upper] (in [1 - lower, 1 + upper]).")
    value_range: ValueRange = [0.0, 255.0]

    factor_bounds = (0.0, 1.0)
    target = "modelspec.nn.image_augmentation:KerasRandomContrast"
