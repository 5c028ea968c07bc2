"""Keras's Masking as a torch module: zero the masked steps and return the mask with the output."""

from __future__ import annotations

import torch
from torch import nn


class KerasMasking(nn.Module):
    """A step (every entry of the last axis) whose features all equal mask_value is masked.

    Args: mask_value.
    Shape: (batch, steps, ..., features) -> ((batch, steps, ..., features), mask (batch, steps, ...) bool).
    The output is the input with the masked steps set to zero (Keras); the mask is True at the kept steps.
    """

    def __init__(self, mask_value: float = 0.0):
        super().__init__()
        self.mask_value = mask_value

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keep = (x != self.mask_value).any(dim=-1)
        return x * keep.unsqueeze(-1).to(x.dtype), keep

    def extra_repr(self) -> str:
        return f"mask_value={self.mask_value}"
