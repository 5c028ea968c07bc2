"""ZeroPadding1D: add zero steps at the start and end of a sequence (batch, steps, features).

    - {type: ZeroPadding1D}                     # (None, 2, 3) -> (None, 4, 3)
    - {type: ZeroPadding1D, padding: [1, 2]}    # (None, 2, 3) -> (None, 5, 3)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_reshaping import Amount1D, ZeroPaddingLayer


@register
class ZeroPadding1D(ZeroPaddingLayer):
    """(batch, steps, features) -> (batch, before + steps + after, features)."""

    type: Literal["ZeroPadding1D"]
    padding: Amount1D = Field(1, description="Zero steps to add: an int for both ends, or [start, end].")

    spatial_rank = 1
