"""ZeroPadding2D: add rows and columns of zeros around images (batch, height, width, channels).

    - {type: ZeroPadding2D}                             # (None, 4, 4, 3) -> (None, 6, 6, 3)
    - {type: ZeroPadding2D, padding: [1, 2]}            # symmetric per axis: -> (None, 6, 8, 3)
    - {type: ZeroPadding2D, padding: [[1, 0], [2, 3]]}  # [[top, bottom], [left, right]]: -> (None, 5, 9, 3)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_reshaping import Amount2D, ZeroPaddingLayer


@register
class ZeroPadding2D(ZeroPaddingLayer):
    """(batch, height, width, channels) -> (batch, top + height + bottom, left + width + right, channels)."""

    type: Literal["ZeroPadding2D"]
    padding: Amount2D = Field(
        [1, 1], description="An int for every border, [height, width] symmetric amounts, or [[top, bottom], [left, right]]."
    )
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, height, width, channels).")

    spatial_rank = 2
