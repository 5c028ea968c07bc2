"""Permute as a torch module."""

from __future__ import annotations

import torch
from torch import nn


class PermuteModule(nn.Module):
    """x.permute(order), where order starts with the batch axis 0.

    Args: order, a permutation of all axes (batch included), e.g. (0, 2, 1).
    Shape: (batch, d1, ..., dn) -> (batch, d[order[1]], ..., d[order[n]]).
    """

    def __init__(self, order: tuple[int, ...]):
        super().__init__()
        self.order = tuple(order)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(self.order)

    def extra_repr(self) -> str:
        return f"order={self.order}"
