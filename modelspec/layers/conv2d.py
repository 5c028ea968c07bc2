"""Conv2D: 2D convolution over images in channels_last layout (batch, height, width, channels).

    - {type: Conv2D, filters: 32, kernel_size: 3, activation: relu}
    - {type: Conv2D, filters: 64, kernel_size: [3, 3], strides: 2, padding: same}

Weights in PyTorch's layout: kernel (filters, channels / groups, kh, kw), bias (filters,).
`same` padding follows Keras/TensorFlow: output = ceil(input / stride), the odd pixel of padding
goes to the bottom and right. Shared rules: modelspec.layers.base_convolution.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseConv


@register
class Conv2D(BaseConv):
    """activation(conv2d(x, kernel) + bias) over (batch, height, width, channels) -> (batch, h', w', filters)."""

    type: Literal["Conv2D"]

    rank = 2
