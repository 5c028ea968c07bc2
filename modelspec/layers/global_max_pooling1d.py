"""GlobalMaxPooling1D: maximum over steps of a channels_last input (batch, steps, channels).

    - {type: GlobalMaxPooling1D}                   # (None, 10, 16) -> (None, 16)
    - {type: GlobalMaxPooling1D, keepdims: true}   # (None, 10, 16) -> (None, 1, 16)

A mask (Embedding mask_zero, Masking) leaves the masked steps out of the maximum (Keras 3's own
GlobalMaxPooling1D ignores masks); a sequence with no kept step gives the dtype's lowest value.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import register
from modelspec.layers.base_pooling import BaseGlobalPooling


@register
class GlobalMaxPooling1D(BaseGlobalPooling):
    """(batch, steps, channels) -> (batch, channels), or (batch, 1, channels) with keepdims."""

    type: Literal["GlobalMaxPooling1D"]

    rank = 1
    mode = "max"
    consumes_mask = True
