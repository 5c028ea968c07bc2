"""Multiply: elementwise product of a list of tensors, broadcast like Keras's merge layers.

    - {type: Multiply, inputs: [features, gate]}               # (None, 8) * (None, 8) -> (None, 8)

Shapes without the batch axis are aligned on the right; sizes must be equal or 1. A lower-rank input
gets size-1 axes inserted after the batch axis (see base_merge.ElementwiseMerge).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_merge import ElementwiseMerge


@register
class Multiply(ElementwiseMerge):
    """Elementwise product of one or more tensors of broadcast-compatible shapes."""

    type: Literal["Multiply"]

    operation = "multiply"
