"""Concatenate as a torch module."""

from __future__ import annotations

import torch
from torch import nn

from modelspec.nn.merge import tensor_list


class ConcatenateModule(nn.Module):
    """torch.cat along `axis` (non-negative, batch axis excluded).

    Args: axis.
    Shape: (batch, ..., n_i, ...) for each input -> (batch, ..., sum(n_i), ...).
    """

    def __init__(self, axis: int):
        super().__init__()
        self.axis = axis

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(tensor_list(inputs), dim=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
