"""MaxPooling1D: the maximum over windows of a channels_last input (batch, steps, channels).

    - {type: MaxPooling1D}                                            # (None, 10, 4) -> (None, 5, 4)
    - {type: MaxPooling1D, pool_size: 3, strides: 2, padding: same}   # (None, 10, 4) -> (None, 5, 4)

strides default to pool_size. Output length per axis: valid floor((n - pool_size) / strides) + 1,
same ceil(n / strides) with TensorFlow's padding (the odd unit after):
padded positions never win.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_pooling import BasePooling


@register
class MaxPooling1D(BasePooling):
    """(batch, steps, channels) -> (batch, steps', channels)."""

    type: Literal["MaxPooling1D"]

    rank = 1
    mode = "max"
