"""Average: elementwise mean of a list of tensors (sum / count), broadcast like Keras's merge layers.

    - {type: Average, inputs: [model_a, model_b, model_c]}     # (None, 10) x 3 -> (None, 10)

Shapes without the batch axis are aligned on the right; sizes must be equal or 1. A lower-rank input
gets size-1 axes inserted after the batch axis (see base_merge.ElementwiseMerge).
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_merge import ElementwiseMerge


@register
class Average(ElementwiseMerge):
    """Elementwise mean (sum / count) of one or more tensors of broadcast-compatible shapes."""

    type: Literal["Average"]

    operation = "average"
