"""Conv3DTranspose: transposed 3D convolution (the gradient of Conv3D), channels_last (batch, dim1, dim2, dim3, channels).

    - {type: Conv3DTranspose, filters: 8, kernel_size: 3, strides: 2, padding: same}   # (None, 4, 4, 4, 16) -> (None, 8, 8, 8, 8)
    - {type: Conv3DTranspose, filters: 4, kernel_size: [1, 3, 3], strides: [1, 2, 2]}

Output length per axis (Keras 3), with span = dilation_rate * (kernel_size - 1) + 1:
valid: (n - 1) * strides + span + output_padding, output_padding defaulting to max(span, strides) - span;
same: n * strides, or (n - 1) * strides + span % 2 + output_padding when output_padding is given.
Weights in PyTorch's ConvTranspose layout: kernel (channels, filters, k1, k2, k3), bias (filters,).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseConvTranspose


@register
class Conv3DTranspose(BaseConvTranspose):
    """activation(conv_transpose(x, kernel) + bias): (batch, d1, d2, d3, channels) -> (batch, d1', d2', d3', filters)."""

    type: Literal["Conv3DTranspose"]

    rank = 3
