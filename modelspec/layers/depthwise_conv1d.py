"""DepthwiseConv1D: each channel of a sequence convolved on its own (batch, steps, channels).

    - {type: DepthwiseConv1D, kernel_size: 3}                       # (None, 10, 4) -> (None, 8, 4)
    - {type: DepthwiseConv1D, kernel_size: 3, depth_multiplier: 2}  # (None, 10, 4) -> (None, 8, 8)

Weights in PyTorch's layout: kernel (channels * depth_multiplier, 1, k), bias (channels * depth_multiplier,);
Keras names them kernel and bias too, and takes depthwise_initializer/_regularizer/_constraint.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseDepthwiseConv


@register
class DepthwiseConv1D(BaseDepthwiseConv):
    """(batch, steps, channels) -> (batch, steps', channels * depth_multiplier)."""

    type: Literal["DepthwiseConv1D"]

    rank = 1
