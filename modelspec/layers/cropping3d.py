"""Cropping3D: remove borders of volumes (batch, dim1, dim2, dim3, channels).

    - {type: Cropping3D}                                    # default 1 on every border: (None, 10, 10, 10, 2) -> (None, 8, 8, 8, 2)
    - {type: Cropping3D, cropping: [2, 4, 2]}               # (None, 28, 28, 10, 3) -> (None, 24, 20, 6, 3)
    - {type: Cropping3D, cropping: [[1, 0], 2, [0, 3]]}     # [before, after] per axis, or an int for both
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_reshaping import Amount3D, CroppingLayer


@register
class Cropping3D(CroppingLayer):
    """(batch, d1, d2, d3, channels) -> each spatial size minus its (before, after) cropping."""

    type: Literal["Cropping3D"]
    cropping: Amount3D = Field(
        [[1, 1], [1, 1], [1, 1]], description="An int for every border, [d1, d2, d3] symmetric amounts, or [[before, after], ...] per axis."
    )
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, d1, d2, d3, channels).")

    spatial_rank = 3
