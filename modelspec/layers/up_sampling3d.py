"""UpSampling3D: repeat the steps of each spatial axis of volumes (batch, dim1, dim2, dim3, channels).

    - {type: UpSampling3D}                      # (None, 1, 2, 1, 3) -> (None, 2, 4, 2, 3)
    - {type: UpSampling3D, size: [1, 2, 3]}     # (None, 1, 2, 1, 3) -> (None, 1, 4, 3, 3)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_reshaping import Size3D, UpSamplingLayer


@register
class UpSampling3D(UpSamplingLayer):
    """(batch, d1, d2, d3, channels) -> (batch, d1 * size[0], d2 * size[1], d3 * size[2], channels)."""

    type: Literal["UpSampling3D"]
    size: Size3D = Field([2, 2, 2], description="Upsampling factors for the three spatial axes: an int for all, or [d1, d2, d3].")
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, d1, d2, d3, channels).")

    spatial_rank = 3
