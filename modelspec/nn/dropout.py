"""Dropout with Keras's noise_shape: one mask of shape noise_shape, broadcast over the input."""

from __future__ import annotations

import torch
from torch import nn


class NoiseShapeDropout(nn.Module):
    """Inverted dropout whose mask has size 1 on the axes where noise_shape says 1.

    Args: rate, noise_shape (batch first; None takes the input's size).
    Shape: unchanged.
    """

    def __init__(self, rate: float, noise_shape: tuple[int | None, ...]):
        super().__init__()
        self.rate = rate
        self.noise_shape = noise_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        shape = [size if wanted is None else wanted for wanted, size in zip(self.noise_shape, x.shape)]
        keep = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.rate)
        return x * keep / (1.0 - self.rate)

    def extra_repr(self) -> str:
        return f"rate={self.rate}, noise_shape={self.noise_shape}"
