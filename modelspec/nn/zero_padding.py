"""ZeroPadding1D/2D/3D as a torch module on channels_last tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ZeroPadding(nn.Module):
    """Adds (before, after) zeros to each spatial axis: axes 1..n, between batch and channels.

    Args: pairs, one (before, after) per spatial axis.
    Shape: (batch, s1, ..., sn, channels) -> (batch, before1 + s1 + after1, ..., channels).
    Examples: ZeroPadding(((1, 0), (2, 3)))(x) pads height by 1 on top, width by 2 left and 3 right.
    """

    def __init__(self, pairs: tuple[tuple[int, int], ...]):
        super().__init__()
        self.pairs = tuple(tuple(pair) for pair in pairs)
        # F.pad lists (before, after) from the last axis backwards; the channels axis gets none.
        self._pad = (0, 0) + tuple(amount for pair in reversed(self.pairs) for amount in pair)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self._pad)

    def extra_repr(self) -> str:
        return f"padding={self.pairs}"
