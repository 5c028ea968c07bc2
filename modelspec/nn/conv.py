"""Keras convolutions as torch modules on channels_last tensors.

Each module moves the channels to axis 1 (a view, no copy), pads the way Keras does (TensorFlow's
`same` with the odd unit after, `causal` before; the arithmetic lives in
modelspec.shapes, shared with the shape rules), runs torch's functional
convolution and moves the channels back. Activations are applied by the compiled graph.

Weights are in torch's layout. Initializers see Keras's fans: a depthwise kernel, stored as
(channels * multiplier, 1, *kernel_size), is drawn in Keras's (*kernel_size, channels, multiplier)
arrangement; the other layouts have the same fans in both libraries.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.initializers import InitializerName
from modelspec.nn.init import initialize
from modelspec.shapes import transpose_crops, window_padding

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
Pads = list[tuple[int, int]]


def channels_first(x: torch.Tensor) -> torch.Tensor:
    """(batch, *spatial, channels) -> (batch, channels, *spatial), a view."""
    return x.movedim(-1, 1)


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """(batch, channels, *spatial) -> (batch, *spatial, channels), a view."""
    return x.movedim(1, -1)


def pad_axes(x: torch.Tensor, pads: Pads, value: float = 0.0) -> torch.Tensor:
    """Pad the spatial axes of a channels-first tensor by one (before, after) pair per axis."""
    if not any(before or after for before, after in pads):
        return x
    return F.pad(x, tuple(amount for pair in reversed(pads) for amount in pair), value=value)


def crop_axes(x: torch.Tensor, crops: Pads) -> torch.Tensor:
    """Cut (before, after) from each spatial axis of a channels-first tensor; a negative amount adds zeros."""
    x = pad_axes(x, [(max(-before, 0), max(-after, 0)) for before, after in crops])
    for axis, (before, after) in enumerate(crops, start=2):
        before, after = max(before, 0), max(after, 0)
        if before or after:
            x = x.narrow(axis, before, x.shape[axis] - before - after)
    return x


def window_pads(x: torch.Tensor, kernel_size: tuple[int, ...], strides: tuple[int, ...], dilation: tuple[int, ...], padding: str) -> Pads:
    """Keras's (before, after) padding of each spatial axis of a channels-first tensor."""
    return [window_padding(size, k, s, d, padding) for size, k, s, d in zip(x.shape[2:], kernel_size, strides, dilation)]


def convolve(
    x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None, strides: tuple[int, ...], padding: str,
    dilation: tuple[int, ...], groups: int = 1,
) -> torch.Tensor:
    """Keras's convolution of a channels-first tensor, valid, same or causal; torch pads symmetric amounts itself."""
    pads = window_pads(x, tuple(kernel.shape[2:]), strides, dilation, padding)
    if all(before == after for before, after in pads):
        return CONV[len(pads)](x, kernel, bias, strides, tuple(before for before, _ in pads), dilation, groups)
    return CONV[len(pads)](pad_axes(x, pads), kernel, bias, strides, 0, dilation, groups)


def initialize_depthwise(kernel: torch.Tensor, name: InitializerName, channels: int) -> None:
    """Fill a (channels * multiplier, 1, *k) kernel as Keras fills (*k, channels, multiplier): fan_in = channels * k."""
    staging = torch.empty(kernel.shape[0] // channels, channels, *kernel.shape[2:])
    initialize(staging, name)
    with torch.no_grad():
        kernel.copy_(staging.transpose(0, 1).reshape(kernel.shape))


class KerasConv(nn.Module):
    """Keras's Conv1D/2D/3D without its activation.

    Args: in_channels, filters, kernel_size (one int per spatial axis), strides, padding ("valid",
    "same" or "causal"), dilation_rate, groups, use_bias, kernel_initializer, bias_initializer.
    Shape: (batch, *spatial, in_channels) -> (batch, *spatial', filters).
    Weights: kernel (filters, in_channels // groups, *kernel_size), bias (filters,).
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel_size: tuple[int, ...],
        *,
        strides: tuple[int, ...] | None = None,
        padding: str = "valid",
        dilation_rate: tuple[int, ...] | None = None,
        groups: int = 1,
        use_bias: bool = True,
        kernel_initializer: InitializerName = "glorot_uniform",
        bias_initializer: InitializerName = "zeros",
    ):
        super().__init__()
        rank = len(kernel_size)
        self.kernel = nn.Parameter(torch.empty(filters, in_channels // groups, *kernel_size))
        self.bias = nn.Parameter(torch.empty(filters)) if use_bias else None
        self.strides = tuple(strides or (1,) * rank)
        self.dilation_rate = tuple(dilation_rate or (1,) * rank)
        self.padding, self.groups = padding, groups
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize(self.kernel, self.kernel_initializer)
        if self.bias is not None:
            initialize(self.bias, self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = convolve(channels_first(x), self.kernel, self.bias, self.strides, self.padding, self.dilation_rate, self.groups)
        return channels_last(y)

    def extra_repr(self) -> str:
        filters, channels, *kernel = self.kernel.shape
        return (
            f"in_channels={channels * self.groups}, filters={filters}, kernel_size={tuple(kernel)}, strides={self.strides}, "
            f"padding={self.padding}, dilation_rate={self.dilation_rate}, groups={self.groups}, use_bias={self.bias is not None}"
        )


class KerasDepthwiseConv(KerasConv):
    """Keras's DepthwiseConv1D/2D without its activation: a convolution with one group per input channel.

    Args: in_channels, depth_multiplier, kernel_size, strides, padding, dilation_rate, use_bias,
    depthwise_initializer, bias_initializer.
    Shape: (batch, *spatial, in_channels) -> (batch, *spatial', in_channels * depth_multiplier);
    output channel c * depth_multiplier + m is input channel c's m-th window, as in Keras.
    Weights: kernel (in_channels * depth_multiplier, 1, *kernel_size), bias (in_channels * depth_multiplier,).
    """

    def __init__(
        self,
        in_channels: int,
        depth_multiplier: int,
        kernel_size: tuple[int, ...],
        *,
        depthwise_initializer: InitializerName = "glorot_uniform",
        **window,
    ):
        super().__init__(
            in_channels, in_channels * depth_multiplier, kernel_size, groups=in_channels,
            kernel_initializer=depthwise_initializer, **window,
        )

    def reset_parameters(self) -> None:
        initialize_depthwise(self.kernel, self.kernel_initializer, self.groups)
        if self.bias is not None:
            initialize(self.bias, self.bias_initializer)

    def extra_repr(self) -> str:
        return (
            f"in_channels={self.groups}, depth_multiplier={self.kernel.shape[0] // self.groups}, "
            f"kernel_size={tuple(self.kernel.shape[2:])}, strides={self.strides}, padding={self.padding}, "
            f"dilation_rate={self.dilation_rate}, use_bias={self.bias is not None}"
        )


class KerasSeparableConv(nn.Module):
    """Keras's SeparableConv1D/2D without its activation: depthwise convolution, then a pointwise one, then the bias.

    Args: in_channels, filters, kernel_size, depth_multiplier, strides, padding, dilation_rate (of the
    depthwise step), use_bias, depthwise_initializer, pointwise_initializer, bias_initializer.
    Shape: (batch, *spatial, in_channels) -> (batch, *spatial', filters).
    Weights: depthwise_kernel (in_channels * depth_multiplier, 1, *kernel_size),
    pointwise_kernel (filters, in_channels * depth_multiplier, 1, ...), bias (filters,).
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel_size: tuple[int, ...],
        *,
        depth_multiplier: int = 1,
        strides: tuple[int, ...] | None = None,
        padding: str = "valid",
        dilation_rate: tuple[int, ...] | None = None,
        use_bias: bool = True,
        depthwise_initializer: InitializerName = "glorot_uniform",
        pointwise_initializer: InitializerName = "glorot_uniform",
        bias_initializer: InitializerName = "zeros",
    ):
        super().__init__()
        rank, middle = len(kernel_size), in_channels * depth_multiplier
        self.depthwise_kernel = nn.Parameter(torch.empty(middle, 1, *kernel_size))
        self.pointwise_kernel = nn.Parameter(torch.empty(filters, middle, *(1,) * rank))
        self.bias = nn.Parameter(torch.empty(filters)) if use_bias else None
        self.in_channels, self.padding = in_channels, padding
        self.strides = tuple(strides or (1,) * rank)
        self.dilation_rate = tuple(dilation_rate or (1,) * rank)
        self.depthwise_initializer, self.pointwise_initializer = depthwise_initializer, pointwise_initializer
        self.bias_initializer = bias_initializer
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize_depthwise(self.depthwise_kernel, self.depthwise_initializer, self.in_channels)
        initialize(self.pointwise_kernel, self.pointwise_initializer)
        if self.bias is not None:
            initialize(self.bias, self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = channels_first(x)
        y = convolve(x, self.depthwise_kernel, None, self.strides, self.padding, self.dilation_rate, self.in_channels)
        return channels_last(CONV[len(self.strides)](y, self.pointwise_kernel, self.bias))

    def extra_repr(self) -> str:
        filters, middle = self.pointwise_kernel.shape[:2]
        return (
            f"in_channels={self.in_channels}, filters={filters}, kernel_size={tuple(self.depthwise_kernel.shape[2:])}, "
            f"depth_multiplier={middle // self.in_channels}, strides={self.strides}, padding={self.padding}, "
            f"dilation_rate={self.dilation_rate}, use_bias={self.bias is not None}"
        )


class KerasConvTranspose(nn.Module):
    """Keras's Conv1DTranspose/2D/3D without its activation.

    torch computes the full output, (input - 1) * stride + dilation * (kernel - 1) + 1 per axis; it is
    then cropped (or extended with zeros) to Keras's length, as Keras 3 does, and the bias added.

    Args: in_channels, filters, kernel_size, strides, padding ("valid" or "same"), output_padding (one
    int or None per axis), dilation_rate, use_bias, kernel_initializer, bias_initializer.
    Shape: (batch, *spatial, in_channels) -> (batch, *spatial', filters).
    Weights: kernel (in_channels, filters, *kernel_size) (torch's ConvTranspose layout), bias (filters,).
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel_size: tuple[int, ...],
        *,
        strides: tuple[int, ...] | None = None,
        padding: str = "valid",
        output_padding: tuple[int | None, ...] | None = None,
        dilation_rate: tuple[int, ...] | None = None,
        use_bias: bool = True,
        kernel_initializer: InitializerName = "glorot_uniform",
        bias_initializer: InitializerName = "zeros",
    ):
        super().__init__()
        rank = len(kernel_size)
        self.kernel = nn.Parameter(torch.empty(in_channels, filters, *kernel_size))
        self.bias = nn.Parameter(torch.empty(filters)) if use_bias else None
        self.strides = tuple(strides or (1,) * rank)
        self.dilation_rate = tuple(dilation_rate or (1,) * rank)
        self.output_padding = tuple(output_padding or (None,) * rank)
        self.padding = padding
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.crops = [
            transpose_crops(k, s, d, padding, p)
            for k, s, d, p in zip(kernel_size, self.strides, self.dilation_rate, self.output_padding)
        ]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize(self.kernel, self.kernel_initializer)
        if self.bias is not None:
            initialize(self.bias, self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        full = CONV_TRANSPOSE[len(self.strides)](channels_first(x), self.kernel, None, self.strides, dilation=self.dilation_rate)
        y = channels_last(crop_axes(full, self.crops))
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        channels, filters, *kernel = self.kernel.shape
        return (
            f"in_channels={channels}, filters={filters}, kernel_size={tuple(kernel)}, strides={self.strides}, "
            f"padding={self.padding}, output_padding={self.output_padding}, dilation_rate={self.dilation_rate}, "
            f"use_bias={self.bias is not None}"
        )
