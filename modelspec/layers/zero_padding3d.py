"""ZeroPadding3D: add zeros around volumes (batch, dim1, dim2, dim3, channels).

    - {type: ZeroPadding3D}                                 # (None, 1, 2, 2, 3) -> (None, 3, 4, 4, 3)
    - {type: ZeroPadding3D, padding: 2}                     # (None, 1, 2, 2, 3) -> (None, 5, 6, 6, 3)
    - {type: ZeroPadding3D, padding: [[1, 0], 0, [2, 1]]}   # [before, after] per axis, or an int for both
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_reshaping import Amount3D, ZeroPaddingLayer


@register
class ZeroPadding3D(ZeroPaddingLayer):
    """(batch, d1, d2, d3, channels) -> each spatial size plus its (before, after) padding."""

    type: Literal["ZeroPadding3D"]
    padding: Amount3D = Field(
        [[1, 1], [1, 1], [1, 1]], description="An int for every border, [d1, d2, d3] symmetric amounts, or [[before, after], ...] per axis."
    )
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, d1, d2, d3, channels).")

    spatial_rank = 3
