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

from pydantic import Field, field_validator

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_image_preprocessing import Factor, RandomImageLayer, ValueRange, check_value_range, factor_range

_BOUNDS = (0.0, 1.0)


@register
class RandomContrast(RandomImageLayer):
    """Training: (x - mean) * factor + mean per image and channel, clipped; inference: the identity."""

    type: Literal["RandomContrast"]
    factor: Factor = Field(description="f in [0, 1] (factors in [1, 1 + f], as Keras 3 draws) or [lower, upper] (in [1 - lower, 1 + upper]).")
    value_range: ValueRange = [0.0, 255.0]

    @field_validator("factor")
    @classmethod
    def _in_bounds(cls, value: float | list[float]) -> float | list[float]:
        factor_range(value, _BOUNDS)
        return value

    @field_validator("value_range")
    @classmethod
    def _range(cls, value: list[float]) -> list[float]:
        return check_value_range(value)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        lower, upper = factor_range(self.factor, _BOUNDS)
        return module_record(
            "modelspec.nn.image_augmentation:KerasRandomContrast", lower, upper, tuple(self.value_range), seed=self.seed,
            channels_first=self.channels_first(),
        )
