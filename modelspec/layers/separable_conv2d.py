"""SeparableConv2D: a depthwise 2D convolution, then a pointwise (1x1) one mixing channels (channels_last).

    - {type: SeparableConv2D, filters: 64, kernel_size: 3, padding: same, activation: relu}
    - {type: SeparableConv2D, filters: 32, kernel_size: [3, 3], depth_multiplier: 2, strides: 2}

Weights in PyTorch's layout: depthwise_kernel (channels * depth_multiplier, 1, kh, kw),
pointwise_kernel (filters, channels * depth_multiplier, 1, 1), bias (filters,).
Keras's parameters: kh * kw * channels * depth_multiplier + channels * depth_multiplier * filters + filters.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseSeparableConv


@register
class SeparableConv2D(BaseSeparableConv):
    """activation(pointwise(depthwise(x)) + bias) over (batch, height, width, channels) -> (batch, h', w', filters)."""

    type: Literal["SeparableConv2D"]

    rank = 2
