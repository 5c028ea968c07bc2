"""Resizing: images resized to (height, width), as keras.layers.Resizing.

    - {type: Resizing, height: 64, width: 64}                                   # (None, 32, 48, 3) -> (None, 64, 64, 3)
    - {type: Resizing, height: 64, width: 64, crop_to_aspect_ratio: true}       # the largest centred 1:1 window, resized
    - {type: Resizing, height: 32, width: 32, interpolation: nearest, pad_to_aspect_ratio: true, fill_value: 0.0}

The arithmetic is Keras 3's on its torch backend: half-pixel centres (align_corners=False),
`nearest` is nearest-exact, `bicubic` is PyTorch's bicubic kernel. Keras's lanczos3 and lanczos5
are refused: PyTorch has no Lanczos kernel (Keras's torch backend refuses them too).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_image_preprocessing import FillValue, ImageLayer, ImageSize

_NO_LANCZOS = "PyTorch has no Lanczos kernel (Keras's torch backend refuses it too); expected 'bilinear', 'nearest' or 'bicubic'"


@register
class Resizing(ImageLayer):
    """Images resized to (height, width): (batch, h, w, channels) -> (batch, height, width, channels)."""

    type: Literal["Resizing"]
    height: ImageSize = Field(description="Height of the output images.")
    width: ImageSize = Field(description="Width of the output images.")
    interpolation: Literal["bilinear", "nearest", "bicubic"] = Field("bilinear", description="bilinear, nearest or bicubic.")
    crop_to_aspect_ratio: bool = Field(False, description="Crop the largest centred window of the target aspect ratio first (no distortion).")
    pad_to_aspect_ratio: bool = Field(False, description="Pad the short side evenly (fill_value) to the target aspect ratio first (no distortion).")
    fill_mode: Literal["constant"] = Field("constant", description="How pad_to_aspect_ratio fills: only constant (fill_value).")
    fill_value: FillValue = 0.0
    antialias: bool = Field(False, description="Antialias when downsampling (bilinear and bicubic).")

    @field_validator("interpolation", mode="before")
    @classmethod
    def _no_lanczos(cls, value: Any) -> Any:
        if value in ("lanczos3", "lanczos5"):
            raise ValueError(f"interpolation {value!r} cannot be matched: {_NO_LANCZOS}")
        return value

    @model_validator(mode="after")
    def _crop_or_pad(self) -> Resizing:
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError("give crop_to_aspect_ratio or pad_to_aspect_ratio, not both (received both true)")
        return self

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.image_size(input_shape)
        return self.with_size(input_shape, self.height, self.width)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.image_preprocessing:KerasResizing", self.height, self.width, self.interpolation,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio, pad_to_aspect_ratio=self.pad_to_aspect_ratio,
            fill_value=self.fill_value, antialias=self.antialias, channels_first=self.channels_first(),
        )
