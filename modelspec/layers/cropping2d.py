"""Cropping2D: remove rows and columns at the borders of images (batch, height, width, channels).

    - {type: Cropping2D, cropping: 2}                   # (None, 28, 28, 3) -> (None, 24, 24, 3)
    - {type: Cropping2D, cropping: [2, 4]}              # symmetric per axis: (None, 28, 28, 3) -> (None, 24, 20, 3)
    - {type: Cropping2D, cropping: [[2, 1], [0, 3]]}    # [[top, bottom], [left, right]]: -> (None, 25, 25, 3)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_reshaping import Amount2D, CroppingLayer


@register
class Cropping2D(CroppingLayer):
    """(batch, height, width, channels) -> (batch, height - top - bottom, width - left - right, channels)."""

    type: Literal["Cropping2D"]
    cropping: Amount2D = Field(
        [[0, 0], [0, 0]], description="An int for every border, [height, width] symmetric amounts, or [[top, bottom], [left, right]]."
    )
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, height, width, channels).")

    spatial_rank = 2
