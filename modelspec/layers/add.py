"""Add: elementwise sum of a list of tensors, broadcast like Keras's merge layers.

    - {type: Add, inputs: [residual, shortcut]}

Shapes without the batch axis are aligned on the right; sizes must be equal or 1. A lower-rank input
gets size-1 axes inserted after the batch axis: (None, 4) + (None, 3, 4) -> (None, 3, 4).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_merge import ElementwiseMerge


@register
class Add(ElementwiseMerge):
    """Sum of one or more tensors of broadcast-compatible shapes."""

    type: Literal["Add"]

    operation = "add"
