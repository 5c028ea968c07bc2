"""DepthwiseConv2D: each channel of an image convolved on its own (batch, height, width, channels).

    - {type: DepthwiseConv2D, kernel_size: 3, padding: same}
    - {type: DepthwiseConv2D, kernel_size: [3, 3], depth_multiplier: 2, strides: 2, use_bias: false}

Weights in PyTorch's layout: kernel (channels * depth_multiplier, 1, kh, kw), bias (channels * depth_multiplier,);
Keras names them kernel and bias too, and takes depthwise_initializer/_regularizer/_constraint.
Output channel c * depth_multiplier + m is input channel c's m-th window, as in Keras.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseDepthwiseConv


@register
class DepthwiseConv2D(BaseDepthwiseConv):
    """(batch, height, width, channels) -> (batch, h', w', channels * depth_multiplier)."""

    type: Literal["DepthwiseConv2D"]

    rank = 2
