"""What the pooling layers share: windowed max/average pooling and global pooling (channels_last).

Not a layer type itself (no `type`, not registered).

- MaxPooling and AveragePooling (1D, 2D, 3D): Keras's pool_size (default 2 on every axis),
  strides (default: pool_size) and padding. Output lengths as a convolution's with dilation 1:
  valid floor((n - pool) / stride) + 1, same ceil(n / stride). `same` pads like TensorFlow (the odd
  unit after); padded positions never win a max and are left out of an average.
- GlobalMaxPooling and GlobalAveragePooling (1D, 2D, 3D): reduce every spatial axis, or keep them
  with size 1 (keepdims). The 1D layers take Keras's mask (batch, steps): masked steps are left out.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record
from modelspec.layers.base_convolution import AxisSizes, WindowLayer
from modelspec.shapes import conv_output_length


class BasePooling(WindowLayer):
    """Max or average over windows of pool_size, moved by strides, along every spatial axis."""

    pool_size: AxisSizes = Field(2, description="Window size: an int, or one per spatial axis.")
    strides: AxisSizes | None = Field(None, description="Step of the window: an int, or one per spatial axis; null: pool_size.")
    padding: Literal["valid", "same"] = Field("valid", description="valid: no padding; same: output = ceil(input / stride).")

    family = "pooling"
    #: "max" or "average".
    mode: ClassVar[str]

    def window(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(pool_size, strides), one int per spatial axis."""
        pool = self.axes(self.pool_size)
        return pool, pool if self.strides is None else self.axes(self.strides)

    def length(self, axis: int, size: int | None) -> int | None:
        pool, strides = self.window()
        return conv_output_length(size, pool[axis], strides[axis], 1, self.padding)

    def describe_window(self) -> str:
        pool, strides = self.window()
        return f"pool_size={pool}, strides={strides} and padding '{self.padding}'"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        spatial = self.spatial_output(input_shape)
        return (input_shape[0], *spatial, input_shape[-1])

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        pool, strides = self.window()
        return module_record("modelspec.nn.pooling:KerasPooling", self.mode, pool, strides, self.padding)


class BaseGlobalPooling(LayerConfig):
    """Max or average over all spatial axes: (batch, *spatial, channels) -> (batch, channels)."""

    data_format: Literal["channels_last"] = Field(
        "channels_last", description="Only channels_last: (batch, spatial axes..., channels)."
    )
    keepdims: bool = Field(False, description="Keep the pooled axes with size 1: (batch, 1, ..., channels).")

    family = "pooling"
    #: Number of spatial axes (1, 2 or 3).
    rank: ClassVar[int]
    #: "max" or "average".
    mode: ClassVar[str]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.expect_rank(input_shape, self.rank + 2)
        batch, channels = input_shape[0], input_shape[-1]
        return (batch, *(1,) * self.rank, channels) if self.keepdims else (batch, channels)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.pooling:KerasGlobalPooling", self.mode, self.rank, keepdims=self.keepdims)
