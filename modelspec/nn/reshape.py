"""Reshape and Flatten as a torch module: reshape everything but the batch axis."""

from __future__ import annotations

import torch
from torch import nn


class KerasReshape(nn.Module):
    """x.reshape(batch, *target_shape); one size may be -1.

    Args: target_shape (without the batch axis); Flatten is target_shape=(-1,).
    Shape: (batch, ...) -> (batch, *target_shape).
    """

    def __init__(self, target_shape: tuple[int, ...]):
        super().__init__()
        self.target_shape = tuple(target_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.target_shape)

    def extra_repr(self) -> str:
        return f"target_shape={self.target_shape}"
