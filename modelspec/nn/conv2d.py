"""Conv2D as a torch module on channels_last tensors, with TensorFlow's `same` padding."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.initializers import InitializerName
from modelspec.nn.init import initialize


def same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """(before, after) padding of one axis so that output = ceil(size / stride); the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


class KerasConv2D(nn.Module):
    """Keras's Conv2D without its activation (the compiled graph applies it).

    Args: in_channels, filters, kernel_size (kh, kw), strides, padding ("valid" or "same"), dilation_rate,
    groups, use_bias, kernel_initializer, bias_initializer.
    Shape: (batch, height, width, in_channels) -> (batch, height', width', filters).
    Weights: kernel (filters, in_channels // groups, kh, kw), bias (filters,).
    """

    def __init__(
        self,
        in_channels: int,
        filters: int,
        kernel_size: tuple[int, int],
        *,
        strides: tuple[int, int] = (1, 1),
        padding: str = "valid",
        dilation_rate: tuple[int, int] = (1, 1),
        groups: int = 1,
        use_bias: bool = True,
        kernel_initializer: InitializerName = "glorot_uniform",
        bias_initializer: InitializerName = "zeros",
    ):
        super().__init__()
        self.kernel = nn.Parameter(torch.empty(filters, in_channels // groups, *kernel_size))
        self.bias = nn.Parameter(torch.empty(filters)) if use_bias else None
        self.strides, self.padding, self.dilation_rate, self.groups = tuple(strides), padding, tuple(dilation_rate), groups
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize(self.kernel, self.kernel_initializer)
        if self.bias is not None:
            initialize(self.bias, self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2)  # NHWC -> NCHW view (channels_last memory format, no copy)
        padding: tuple[int, int] = (0, 0)
        if self.padding == "same":
            (top, bottom), (left, right) = (
                same_padding(size, k, s, d)
                for size, k, s, d in zip(x.shape[2:], self.kernel.shape[2:], self.strides, self.dilation_rate)
            )
            if top == bottom and left == right:
                padding = (top, left)
            else:
                x = F.pad(x, (left, right, top, bottom))
        y = F.conv2d(x, self.kernel, self.bias, self.strides, padding, self.dilation_rate, self.groups)
        return y.permute(0, 2, 3, 1)

    def extra_repr(self) -> str:
        filters, channels, kh, kw = self.kernel.shape
        return (
            f"in_channels={channels * self.groups}, filters={filters}, kernel_size=({kh}, {kw}), strides={self.strides}, "
            f"padding={self.padding}, dilation_rate={self.dilation_rate}, groups={self.groups}, use_bias={self.bias is not None}"
        )
