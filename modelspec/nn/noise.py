"""Keras's noise layers as torch modules: GaussianNoise, GaussianDropout, AlphaDropout.

Each is the identity at inference (module.eval()) and draws from torch's global generator in training.
"""

from __future__ import annotations

import math

import torch
from torch import nn

#: SELU's constants, as Keras writes them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class KerasGaussianNoise(nn.Module):
    """Training: x + N(0, stddev^2) noise. Args: stddev. Shape: unchanged."""

    def __init__(self, stddev: float):
        super().__init__()
        self.stddev = stddev

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.stddev == 0.0:
            return x
        return x + torch.randn_like(x) * self.stddev

    def extra_repr(self) -> str:
        return f"stddev={self.stddev}"


class KerasGaussianDropout(nn.Module):
    """Training: x * N(1, rate / (1 - rate)) noise. Args: rate in [0, 1). Shape: unchanged."""

    def __init__(self, rate: float):
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return x * (1.0 + torch.randn_like(x) * stddev)

    def extra_repr(self) -> str:
        return f"rate={self.rate}"


class KerasAlphaDropout(nn.Module):
    """Training: dropped entries become SELU's negative saturation alpha' = -alpha * scale, then
    a * x + b with a = ((1 - rate) * (1 + rate * alpha'^2))^-1/2 and b = -a * alpha' * rate, which keeps
    a unit-normal input's mean and variance (Keras's AlphaDropout).

    Args: rate in [0, 1), noise_shape (batch first; None takes the input's size; None: the input's shape).
    Shape: unchanged.
    """

    def __init__(self, rate: float, noise_shape: tuple[int | None, ...] | None = None):
        super().__init__()
        self.rate = rate
        self.noise_shape = noise_shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        shape = list(x.shape) if self.noise_shape is None else [
            size if wanted is None else wanted for wanted, size in zip(self.noise_shape, x.shape)
        ]
        kept = (torch.rand(shape, device=x.device) >= self.rate).to(x.dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1.0 - self.rate) * (1.0 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (x * kept + alpha_p * (1.0 - kept)) + b

    def extra_repr(self) -> str:
        return f"rate={self.rate}, noise_shape={self.noise_shape}"
