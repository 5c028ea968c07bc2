"""AveragePooling3D: the mean over windows of a channels_last input (batch, dim1, dim2, dim3, channels).

    - {type: AveragePooling3D}   # (None, 8, 8, 8, 2) -> (None, 4, 4, 4, 2)
    - {type: AveragePooling3D, pool_size: [1, 2, 2], padding: same}

strides default to pool_size. Output length per axis: valid floor((n - pool_size) / strides) + 1,
same ceil(n / strides) with TensorFlow's padding (the odd unit after):
the mean is over the real positions of each window only (padding excluded, as Keras).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_pooling import BasePooling


@register
class AveragePooling3D(BasePooling):
    """(batch, d1, d2, d3, channels) -> (batch, d1', d2', d3', channels)."""

    type: Literal["AveragePooling3D"]

    rank = 3
    mode = "average"
