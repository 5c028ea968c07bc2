"""The Activation layer as a torch module."""

from __future__ import annotations

import torch
from torch import nn

from modelspec.activations import ActivationName
from modelspec.nn.activations import get_activation


class KerasActivation(nn.Module):
    """Applies a Keras activation by name.

    Args: activation (e.g. "relu", "softmax": softmax is over the last axis).
    Shape: unchanged.
    """

    def __init__(self, activation: ActivationName):
        super().__init__()
        self.activation = activation
        self._function = get_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._function(x)

    def extra_repr(self) -> str:
        return f"activation={self.activation}"
