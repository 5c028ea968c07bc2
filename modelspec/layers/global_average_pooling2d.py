"""GlobalAveragePooling2D: mean over height and width of a channels_last input (batch, height, width, channels).

    - {type: GlobalAveragePooling2D}                   # (None, 7, 7, 512) -> (None, 512)
    - {type: GlobalAveragePooling2D, keepdims: true}   # (None, 7, 7, 512) -> (None, 1, 1, 512)
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_pooling import BaseGlobalPooling


@register
class GlobalAveragePooling2D(BaseGlobalPooling):
    """(batch, height, width, channels) -> (batch, channels), or (batch, 1, 1, channels) with keepdims."""

    type: Literal["GlobalAveragePooling2D"]

    rank = 2
    mode = "average"
