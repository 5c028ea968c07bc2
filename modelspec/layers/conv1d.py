"""Conv1D: 1D convolution over sequences in channels_last layout (batch, steps, channels).

    - {type: Conv1D, filters: 32, kernel_size: 3, activation: relu}
    - {type: Conv1D, filters: 16, kernel_size: 2, dilation_rate: 4, padding: causal}   # WaveNet-style

Weights in PyTorch's layout: kernel (filters, channels / groups, k), bias (filters,).
`causal` pads dilation_rate * (kernel_size - 1) zeros before the sequence, so output t never sees
inputs after t; output length ceil(steps / strides), as with `same`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_convolution import BaseConv


@register
class Conv1D(BaseConv):
    """activation(conv1d(x, kernel) + bias) over (batch, steps, channels) -> (batch, steps', filters)."""

    type: Literal["Conv1D"]
    padding: Literal["valid", "same", "causal"] = Field(
        "valid", description="valid: no padding; same: output = ceil(input / stride); causal: pad before only."
    )

    rank = 1
