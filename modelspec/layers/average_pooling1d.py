"""AveragePooling1D: the mean over windows of a channels_last input (batch, steps, channels).

    - {type: AveragePooling1D}                                            # (None, 10, 4) -> (None, 5, 4)
    - {type: AveragePooling1D, pool_size: 3, strides: 2, padding: same}   # (None, 10, 4) -> (None, 5, 4)

strides default to pool_size. Output length per axis: valid floor((n - pool_size) / strides) + 1,
same ceil(n / strides) with TensorFlow's padding (the odd unit after):
the mean is over the real positions of each window only (padding excluded, as Keras).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_pooling import BasePooling


@register
class AveragePooling1D(BasePooling):
    """(batch, steps, channels) -> (batch, steps', channels)."""

    type: Literal["AveragePooling1D"]

    rank = 1
    mode = "average"
