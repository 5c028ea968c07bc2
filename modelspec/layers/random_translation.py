"""RandomTranslation: each image shifted by a random amount in training, as keras.layers.RandomTranslation.

    - {type: RandomTranslation, height_factor: 0.1, width_factor: 0.1}     # up to 10% in each direction
    - {type: RandomTranslation, height_factor: [-0.2, 0.0], width_factor: 0.2, fill_mode: constant}

Factors are fractions of the height and width, each in [-1, 1]: f gives [-f, f], [a, b] gives
[a, b]. Positive shifts move the image down and right. The identity at inference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_image_preprocessing import AffineInterpolation, Factor, FillMode, FillValue, RandomImageLayer, factor_range

_BOUNDS = (-1.0, 1.0)


@register
class RandomTranslation(RandomImageLayer):
    """Training: a shift per image; inference: the identity. The shape is unchanged."""

    type: Literal["RandomTranslation"]
    height_factor: Factor = Field(description="Vertical shift as a fraction of the height: f for [-f, f] or [lower, upper], in [-1, 1].")
    width_factor: Factor = Field(description="Horizontal shift as a fraction of the width: f for [-f, f] or [lower, upper], in [-1, 1].")
    fill_mode: FillMode = "reflect"
    interpolation: AffineInterpolation = "bilinear"
    fill_value: FillValue = 0.0

    @field_validator("height_factor", "width_factor")
    @classmethod
    def _in_bounds(cls, value: float | list[float], info: ValidationInfo) -> float | list[float]:
        factor_range(value, _BOUNDS, info.field_name)
        return value

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.image_augmentation:KerasRandomTranslation", factor_range(self.height_factor, _BOUNDS), factor_range(self.width_factor, _BOUNDS),
            interpolation=self.interpolation, fill_mode=self.fill_mode, fill_value=self.fill_value, seed=self.seed,
            channels_first=self.channels_first(),
        )
