"""GlobalAveragePooling1D: mean over steps of a channels_last input (batch, steps, channels).

    - {type: GlobalAveragePooling1D}                   # (None, 10, 16) -> (None, 16)
    - {type: GlobalAveragePooling1D, keepdims: true}   # (None, 10, 16) -> (None, 1, 16)

A mask (Embedding mask_zero, Masking) leaves the masked steps out: sum over kept steps / their count,
as Keras (NaN for a sequence with no kept step)."""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_pooling import BaseGlobalPooling


@register
class GlobalAveragePooling1D(BaseGlobalPooling):
    """(batch, steps, channels) -> (batch, channels), or (batch, 1, channels) with keepdims."""

    type: Literal["GlobalAveragePooling1D"]

    rank = 1
    mode = "average"
    consumes_mask = True
