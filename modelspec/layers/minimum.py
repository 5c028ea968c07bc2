"""Minimum: elementwise minimum of a list of tensors, broadcast like Keras's merge layers.

    - {type: Minimum, inputs: [left, right]}                   # (None, 5) and (None, 5) -> (None, 5)

Shapes without the batch axis are aligned on the right; sizes must be equal or 1. A lower-rank input
gets size-1 axes inserted after the batch axis (see base_merge.ElementwiseMerge).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_merge import ElementwiseMerge


@register
class Minimum(ElementwiseMerge):
    """Elementwise minimum of one or more tensors of broadcast-compatible shapes."""

    type: Literal["Minimum"]

    operation = "minimum"
