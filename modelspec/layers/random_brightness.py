"""RandomBrightness: a random amount added to each image in training, as keras.layers.RandomBrightness.

    - {type: RandomBrightness, factor: 0.2}                               # +-20% of 255
    - {type: RandomBrightness, factor: [-0.1, 0.3], value_range: [0.0, 1.0], seed: 5}

Per image a draw d from [lower, upper] (f gives [-f, f]; each in [-1, 1]) adds
d * (high - low) to every pixel; the result is clipped to value_range [low, high]. -1 makes the
image black, 1 white. The identity at inference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_image_preprocessing import Factor, RandomImageLayer, ValueRange, check_value_range, factor_range

_BOUNDS = (-1.0, 1.0)


@register
class RandomBrightness(RandomImageLayer):
    """Training: x + d * (high - low) per image, clipped to value_range; inference: the identity."""

    type: Literal["RandomBrightness"]
    factor: Factor = Field(description="f in [-1, 1] for [-f, f], or [lower, upper]: the shift as a fraction of the value range.")
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
            "modelspec.nn.image_augmentation:KerasRandomBrightness", lower, upper, tuple(self.value_range), seed=self.seed,
            channels_first=self.channels_first(),
        )
