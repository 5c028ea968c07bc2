"""RandomRotation: each image rotated by a random angle in training, as keras.layers.RandomRotation.

    - {type: RandomRotation, factor: 0.1}                       # angles in [-36, 36] degrees
    - {type: RandomRotation, factor: [-0.05, 0.2], fill_mode: constant, fill_value: 0.0, seed: 3}

`factor` is a fraction of a full turn: f gives [-f * 360, f * 360] degrees, [a, b] gives
[a * 360, b * 360]; positive angles turn counter-clockwise. Points from outside the image are
filled by `fill_mode`. The identity at inference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_image_preprocessing import AffineInterpolation, Factor, FillMode, FillValue, RandomImageLayer, factor_range


@register
class RandomRotation(RandomImageLayer):
    """Training: a rotation about the centre per image; inference: the identity. The shape is unchanged."""

    type: Literal["RandomRotation"]
    factor: Factor = Field(description="Fraction of a full turn: a number f in [-1, 1] for [-f, f], or [lower, upper].")
    fill_mode: FillMode = "reflect"
    interpolation: AffineInterpolation = "bilinear"
    fill_value: FillValue = 0.0

    @field_validator("factor")
    @classmethod
    def _in_bounds(cls, value: float | list[float]) -> float | list[float]:
        factor_range(value, (-1.0, 1.0))
        return value

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        lower, upper = factor_range(self.factor, (-1.0, 1.0))
        return module_record(
            "modelspec.nn.image_augmentation:KerasRandomRotation", lower, upper, interpolation=self.interpolation,
            fill_mode=self.fill_mode, fill_value=self.fill_value, seed=self.seed, channels_first=self.channels_first(),
        )
