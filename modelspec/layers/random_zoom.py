"""RandomZoom: each image zoomed in or out by a random amount in training, as keras.layers.RandomZoom.

    - {type: RandomZoom, height_factor: 0.2}                      # zoom 0.8-1.2, the same for both axes
    - {type: RandomZoom, height_factor: [-0.3, -0.1], width_factor: [-0.2, 0.2], fill_mode: constant}

A factor f gives [-f, f], [a, b] gives [a, b]; each value in (-1, 1]. The zoom is 1 + the draw:
positive zooms out (the image shrinks), negative zooms in. Without `width_factor` the width is
zoomed as the height (aspect ratio kept). The identity at inference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_image_preprocessing import AffineInterpolation, Factor, FillMode, FillValue, RandomImageLayer, factor_range

def zoom_range(factor: float | list[float], name: str) -> tuple[float, float]:
    """Keras's (lower, upper) of a zoom factor; each value in (-1, 1] (a zoom of 1 + -1 = 0 is refused)."""
    values = factor if isinstance(factor, list) else [factor]
    if any(v <= -1.0 for v in values):
        raise ValueError(f"{name} must be a number or a list of two numbers in (-1, 1], received {name}={factor}")
    return factor_range(factor, (-1.0, 1.0), name)


@register
class RandomZoom(RandomImageLayer):
    """Training: a zoom about the centre per image; inference: the identity. The shape is unchanged."""

    type: Literal["RandomZoom"]
    height_factor: Factor = Field(description="Vertical zoom range: f for [-f, f] or [lower, upper], in (-1, 1]; positive zooms out.")
    width_factor: Factor | None = Field(None, description="Horizontal zoom range, as height_factor; null zooms the width as the height.")
    fill_mode: FillMode = "reflect"
    interpolation: AffineInterpolation = "bilinear"
    fill_value: FillValue = 0.0

    @field_validator("height_factor", "width_factor")
    @classmethod
    def _in_bounds(cls, value: float | list[float] | None, info: ValidationInfo) -> float | list[float] | None:
        if value is not None:
            zoom_range(value, info.field_name)
        return value

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        width = None if self.width_factor is None else zoom_range(self.width_factor, "width_factor")
        return module_record(
            "modelspec.nn.image_augmentation:KerasRandomZoom", zoom_range(self.height_factor, "height_factor"), width,
            interpolation=self.interpolation, fill_mode=self.fill_mode, fill_value=self.fill_value, seed=self.seed,
            channels_first=self.channels_first(),
        )
