"""Conv2DTranspose: transposed 2D convolution (the gradient of Conv2D), channels_last (batch, height, width, channels).

    - {type: Conv2DTranspose, filters: 32, kernel_size: 3, strides: 2, padding: same}   # (None, 7, 7, 64) -> (None, 14, 14, 32)
    - {type: Conv2DTranspose, filters: 1, kernel_size: 3, strides: 2, output_padding: 1}  # (None, 7, 7, 64) -> (None, 16, 16, 1)

Output length per axis (Keras 3), with span = dilation_rate * (kernel_size - 1) + 1:
valid: (n - 1) * strides + span + output_padding, output_padding defaulting to max(span, strides) - span;
same: n * strides, or (n - 1) * strides + span % 2 + output_padding when output_padding is given.
Weights in PyTorch's ConvTranspose layout: kernel (channels, filters, kh, kw), bias (filters,).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseConvTranspose


@register
class Conv2DTranspose(BaseConvTranspose):
    """activation(conv_transpose(x, kernel) + bias): (batch, height, width, channels) -> (batch, h', w', filters)."""

    type: Literal["Conv2DTranspose"]

    rank = 2
