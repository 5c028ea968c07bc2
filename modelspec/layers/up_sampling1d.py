"""UpSampling1D: repeat each step of a sequence `size` times (batch, steps, features).

    - {type: UpSampling1D}              # (None, 5, 3) -> (None, 10, 3): steps a, b -> a, a, b, b
    - {type: UpSampling1D, size: 3}     # (None, 5, 3) -> (None, 15, 3)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import PositiveInt
from modelspec.layers.base import register
from modelspec.layers.base_reshaping import UpSamplingLayer


@register
class UpSampling1D(UpSamplingLayer):
    """(batch, steps, features) -> (batch, steps * size, features)."""

    type: Literal["UpSampling1D"]
    size: PositiveInt = Field(2, description="How many times each step is repeated.")

    spatial_rank = 1
