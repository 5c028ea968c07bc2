"""Conv3D: 3D convolution over volumes in channels_last layout (batch, dim1, dim2, dim3, channels).

    - {type: Conv3D, filters: 8, kernel_size: 3, activation: relu}
    - {type: Conv3D, filters: 16, kernel_size: [1, 3, 3], strides: [1, 2, 2], padding: same}

Weights in PyTorch's layout: kernel (filters, channels / groups, k1, k2, k3), bias (filters,).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseConv


@register
class Conv3D(BaseConv):
    """activation(conv3d(x, kernel) + bias) over (batch, d1, d2, d3, channels) -> (batch, d1', d2', d3', filters)."""

    type: Literal["Conv3D"]

    rank = 3
