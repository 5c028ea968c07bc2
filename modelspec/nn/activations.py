"""Keras activations as torch functions, looked up by name (see modelspec.activations)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from modelspec.activations import ActivationName


def linear(x: torch.Tensor) -> torch.Tensor:
    return x


def softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(x, dim=-1)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3: relu6(x + 3) / 6."""
    return F.hardsigmoid(x)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    """Keras default negative_slope 0.2."""
    return F.leaky_relu(x, 0.2)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """Keras default approximate=True (tanh form)."""
    return F.gelu(x, approximate="tanh")


ACTIVATION_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": linear,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": softmax,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "selu": torch.selu,
    "elu": F.elu,
    "gelu": gelu,
    "silu": F.silu,
    "swish": F.silu,
    "exponential": torch.exp,
    "hard_sigmoid": hard_sigmoid,
    "leaky_relu": leaky_relu,
    "relu6": F.relu6,
    "mish": F.mish,
    "log_softmax": log_softmax,
}


def get_activation(name: ActivationName) -> Callable[[torch.Tensor], torch.Tensor]:
    return ACTIVATION_FUNCTIONS[name]
