"""Conv2D: 2D convolution over images in channels_last layout (batch, height, width, channels).

    - {type: Conv2D, filters: 32, kernel_size: 3, activation: relu}
    - {type: Conv2D, filters: 64, kernel_size: [3, 3], strides: 2, padding: same}

Weights in PyTorch's layout: kernel (filters, channels / groups, kh, kw), bias (filters,).
`same` padding follows Keras/TensorFlow: output = ceil(input / stride), the odd pixel of padding
goes to the bottom and right.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, model_validator

from modelspec.activations import ActivationName
from modelspec.config import PositiveInt
from modelspec.errors import ShapeError
from modelspec.initializers import InitializerName
from modelspec.layers.base import LayerConfig, Shape, Weight, format_shape, register
from modelspec.regularizers import Regularized

#: An int used for both spatial axes, or [height, width].
IntPair = PositiveInt | Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]


def pair(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def conv_output_size(size: int | None, kernel: int, stride: int, dilation: int, padding: str) -> int | None:
    """Keras's output length of one spatial axis (None when the input length is unknown)."""
    if size is None:
        return None
    if padding == "same":
        return math.ceil(size / stride)
    return (size - dilation * (kernel - 1) - 1) // stride + 1


@register
class Conv2D(Regularized, LayerConfig):
    """activation(conv2d(x, kernel) + bias) over (batch, height, width, channels) -> (batch, h', w', filters)."""

    type: Literal["Conv2D"]
    filters: PositiveInt = Field(description="Number of output channels.")
    kernel_size: IntPair = Field(description="Height and width of the convolution window: an int or [h, w].")
    strides: IntPair = Field(1, description="Strides along height and width: an int or [h, w].")
    padding: Literal["valid", "same"] = Field("valid", description="valid: no padding; same: output = ceil(input / stride).")
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, height, width, channels).")
    dilation_rate: IntPair = Field(1, description="Dilation rate of the window: an int or [h, w].")
    groups: PositiveInt = Field(1, description="Number of channel groups; filters and input channels must divide by it.")
    activation: ActivationName = Field("linear", description="Activation applied to the output.")
    use_bias: bool = Field(True, description="Whether the layer has a bias vector.")
    kernel_initializer: InitializerName = Field("glorot_uniform", description="Initializer of the kernel.")
    bias_initializer: InitializerName = Field("zeros", description="Initializer of the bias.")

    family = "convolution"

    @model_validator(mode="after")
    def _check_arguments(self) -> Conv2D:
        if max(pair(self.strides)) > 1 and max(pair(self.dilation_rate)) > 1:
            raise ValueError(
                f"strides > 1 is not supported together with dilation_rate > 1, received strides={self.strides} "
                f"and dilation_rate={self.dilation_rate}"
            )
        if self.filters % self.groups:
            raise ValueError(f"filters must be divisible by groups, received filters={self.filters} and groups={self.groups}")
        return self

    def _channels(self, input_shapes: list[Shape]) -> int:
        shape = self.single(input_shapes)
        self.expect_rank(shape, 4)
        channels = shape[3]
        if channels is None:
            raise ShapeError(f"Conv2D needs a known channel count (last axis), received shape {format_shape(shape)}")
        if channels % self.groups:
            raise ShapeError(
                f"Conv2D input channels must be divisible by groups={self.groups}, received shape {format_shape(shape)}"
            )
        return channels

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self._channels([input_shape])
        spatial = tuple(
            conv_output_size(size, k, s, d, self.padding)
            for size, k, s, d in zip(input_shape[1:3], pair(self.kernel_size), pair(self.strides), pair(self.dilation_rate))
        )
        if any(size is not None and size <= 0 for size in spatial):
            raise ShapeError(
                f"Conv2D with kernel_size={self.kernel_size}, dilation_rate={self.dilation_rate} and padding 'valid' "
                f"needs larger images, received shape {format_shape(input_shape)} (output would be {format_shape(spatial)})"
            )
        return (input_shape[0], *spatial, self.filters)

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        channels = self._channels(input_shapes)
        found = {"kernel": Weight((self.filters, channels // self.groups, *pair(self.kernel_size)))}
        if self.use_bias:
            found["bias"] = Weight((self.filters,))
        return found

    def output_activation(self) -> str | None:
        return self.activation

    def build(self, input_shapes: list[Shape]):
        from modelspec.nn.conv2d import KerasConv2D

        return KerasConv2D(
            self._channels(input_shapes),
            self.filters,
            pair(self.kernel_size),
            strides=pair(self.strides),
            padding=self.padding,
            dilation_rate=pair(self.dilation_rate),
            groups=self.groups,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
        )
