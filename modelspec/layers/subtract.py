"""Subtract: inputs[0] - inputs[1]; called on exactly 2 tensors, broadcast like Keras's merge layers.

    - {type: Subtract, inputs: [prediction, target]}          # (None, 10) - (None, 10) -> (None, 10)

Shapes without the batch axis are aligned on the right; sizes must be equal or 1. A lower-rank input
gets size-1 axes inserted after the batch axis (see base_merge.ElementwiseMerge).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_merge import ElementwiseMerge


@register
class Subtract(ElementwiseMerge):
    """inputs[0] - inputs[1], for exactly two tensors of broadcast-compatible shapes."""

    type: Literal["Subtract"]

    arity = (2, 2)
    operation = "subtract"
