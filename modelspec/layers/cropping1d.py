"""Cropping1D: remove steps at the start and end of a sequence (batch, steps, features).

    - {type: Cropping1D, cropping: 2}          # (None, 10, 4) -> (None, 6, 4)
    - {type: Cropping1D, cropping: [1, 0]}     # (None, 10, 4) -> (None, 9, 4)
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_reshaping import Amount1D, CroppingLayer


@register
class Cropping1D(CroppingLayer):
    """(batch, steps, features) -> (batch, steps - before - after, features)."""

    type: Literal["Cropping1D"]
    cropping: Amount1D = Field([1, 1], description="Steps to remove: an int for both ends, or [start, end].")

    spatial_rank = 1
