"""GlobalMaxPooling3D: maximum over the three spatial axes of a channels_last input (batch, dim1, dim2, dim3, channels).

    - {type: GlobalMaxPooling3D}                   # (None, 4, 4, 4, 32) -> (None, 32)
    - {type: GlobalMaxPooling3D, keepdims: true}   # (None, 4, 4, 4, 32) -> (None, 1, 1, 1, 32)
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_pooling import BaseGlobalPooling


@register
class GlobalMaxPooling3D(BaseGlobalPooling):
    """(batch, d1, d2, d3, channels) -> (batch, channels), or (batch, 1, 1, 1, channels) with keepdims."""

    type: Literal["GlobalMaxPooling3D"]

    rank = 3
    mode = "max"
