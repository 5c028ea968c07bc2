"""Add as a torch module: Keras's merge broadcasting (lower-rank inputs get axes after the batch axis)."""

from __future__ import annotations

import torch
from torch import nn


def tensor_list(inputs: tuple) -> list[torch.Tensor]:
    """Accept module(a, b, ...) as well as module([a, b, ...])."""
    return list(inputs[0]) if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)) else list(inputs)


class AddModule(nn.Module):
    """Shape: tensors of broadcast-compatible shapes -> their broadcast shape."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        tensors = tensor_list(inputs)
        rank = max(t.dim() for t in tensors)
        total = None
        for t in tensors:
            while t.dim() < rank:
                t = t.unsqueeze(1)
            total = t if total is None else total + t
        return total
