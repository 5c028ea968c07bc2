"""MaxPooling3D: the maximum over windows of a channels_last input (batch, dim1, dim2, dim3, channels).

    - {type: MaxPooling3D}   # (None, 8, 8, 8, 2) -> (None, 4, 4, 4, 2)
    - {type: MaxPooling3D, pool_size: [1, 2, 2], padding: same}

strides default to pool_size. Output length per axis: valid floor((n - pool_size) / strides) + 1,
same ceil(n / strides) with TensorFlow's padding (the odd unit after):
padded positions never win.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_pooling import BasePooling


@register
class MaxPooling3D(BasePooling):
    """(batch, d1, d2, d3, channels) -> (batch, d1', d2', d3', channels)."""

    type: Literal["MaxPooling3D"]

    rank = 3
    mode = "max"
