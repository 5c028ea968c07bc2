"""Maximum: elementwise maximum of a list of tensors, broadcast like Keras's merge layers.

    - {type: Maximum, inputs: [left, right]}                   # (None, 4) and (None, 3, 4) -> (None, 3, 4)

Shapes without the batch axis are aligned on the right; sizes must be equal or 1. A lower-rank input
gets size-1 axes inserted after the batch axis (see base_merge.ElementwiseMerge).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_merge import ElementwiseMerge


@register
class Maximum(ElementwiseMerge):
    """Elementwise maximum of one or more tensors of broadcast-compatible shapes."""

    type: Literal["Maximum"]

    operation = "maximum"
