"""Conv1DTranspose: transposed 1D convolution (the gradient of Conv1D), channels_last (batch, steps, channels).

    - {type: Conv1DTranspose, filters: 16, kernel_size: 3, strides: 2}                # (None, 10, 8) -> (None, 21, 16)
    - {type: Conv1DTranspose, filters: 8, kernel_size: 4, strides: 2, padding: same}   # (None, 10, 8) -> (None, 20, 8)

Output length per axis (Keras 3), with span = dilation_rate * (kernel_size - 1) + 1:
valid: (n - 1) * strides + span + output_padding, output_padding defaulting to max(span, strides) - span;
same: n * strides, or (n - 1) * strides + span % 2 + output_padding when output_padding is given.
Weights in PyTorch's ConvTranspose layout: kernel (channels, filters, k), bias (filters,).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseConvTranspose


@register
class Conv1DTranspose(BaseConvTranspose):
    """activation(conv_transpose(x, kernel) + bias): (batch, steps, channels) -> (batch, steps', filters)."""

    type: Literal["Conv1DTranspose"]

    rank = 1
