"""MaxPooling2D: the maximum over windows of a channels_last input (batch, height, width, channels).

    - {type: MaxPooling2D}                                                 # (None, 28, 28, 8) -> (None, 14, 14, 8)
    - {type: MaxPooling2D, pool_size: [3, 3], strides: 2, padding: same}   # (None, 7, 7, 8) -> (None, 4, 4, 8)

strides default to pool_size. Output length per axis: valid floor((n - pool_size) / strides) + 1,
same ceil(n / strides) with TensorFlow's padding (the odd unit after):
padded positions never win.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_pooling import BasePooling


@register
class MaxPooling2D(BasePooling):
    """(batch, height, width, channels) -> (batch, h', w', channels)."""

    type: Literal["MaxPooling2D"]

    rank = 2
    mode = "max"
