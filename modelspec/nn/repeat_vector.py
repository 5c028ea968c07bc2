"""RepeatVector as a torch module."""

from __future__ import annotations

import torch
from torch import nn


class RepeatVectorModule(nn.Module):
    """Repeats a (batch, features) tensor n times along a new axis 1.

    Args: n.
    Shape: (batch, features) -> (batch, n, features).
    """

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(1).repeat(1, self.n, 1)

    def extra_repr(self) -> str:
        return f"n={self.n}"
