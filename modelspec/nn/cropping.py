"""Cropping1D/2D/3D as a torch module on channels_last tensors."""

from __future__ import annotations

import torch
from torch import nn


class Cropping(nn.Module):
    """Removes (before, after) steps from each spatial axis: axes 1..n, between batch and channels.

    Args: pairs, one (before, after) per spatial axis.
    Shape: (batch, s1, ..., sn, channels) -> (batch, s1 - before1 - after1, ..., channels).
    Examples: Cropping(((2, 1), (0, 3)))(x) == x[:, 2:-1, 0:-3, :].
    """

    def __init__(self, pairs: tuple[tuple[int, int], ...]):
        super().__init__()
        self.pairs = tuple(tuple(pair) for pair in pairs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for axis, (before, after) in enumerate(self.pairs, start=1):
            x = x.narrow(axis, before, x.shape[axis] - before - after)
        return x

    def extra_repr(self) -> str:
        return f"cropping={self.pairs}"
