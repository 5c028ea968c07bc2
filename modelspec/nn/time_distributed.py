"""TimeDistributed as a torch module: fold time into the batch, apply the inner module, unfold."""

from __future__ import annotations

import torch
from torch import nn

from modelspec.nn.activations import get_activation


class TimeDistributedModule(nn.Module):
    """Shape: (batch, time, *step) -> (batch, time, *inner_output)."""

    def __init__(self, layer: nn.Module, activation: str | None = None):
        super().__init__()
        self.layer = layer
        self.activation_name = activation or "linear"
        self._activation = get_activation(self.activation_name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, time = x.shape[0], x.shape[1]
        y = self._activation(self.layer(x.reshape(batch * time, *x.shape[2:])))
        return y.reshape(batch, time, *y.shape[1:])
