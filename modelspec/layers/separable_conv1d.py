"""SeparableConv1D: a depthwise 1D convolution, then a pointwise one mixing channels (batch, steps, channels).

    - {type: SeparableConv1D, filters: 32, kernel_size: 3, activation: relu}
    - {type: SeparableConv1D, filters: 16, kernel_size: 5, depth_multiplier: 2, padding: same}

Weights in PyTorch's layout: depthwise_kernel (channels * depth_multiplier, 1, k),
pointwise_kernel (filters, channels * depth_multiplier, 1), bias (filters,).
Keras's parameters: k * channels * depth_multiplier + channels * depth_multiplier * filters + filters.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseSeparableConv


@register
class SeparableConv1D(BaseSeparableConv):
    """activation(pointwise(depthwise(x)) + bias) over (batch, steps, channels) -> (batch, steps', filters)."""

    type: Literal["SeparableConv1D"]

    rank = 1
