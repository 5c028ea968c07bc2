"""Keras initializers on torch tensors in PyTorch's layout.

Fan-in and fan-out are computed the way Keras computes them: for a kernel of torch shape
(out, in, *kernel_size), fan_in = in * prod(kernel_size) and fan_out = out * prod(kernel_size),
which is what Keras gets from its (*kernel_size, in, out) layout. Keras's "normal" variance-scaling
initializers draw from a normal truncated at two standard deviations.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from modelspec.initializers import InitializerName

# Standard deviation of a unit normal truncated to [-2, 2] (Keras's correction constant).
_TRUNCATED_STD = 0.87962566103423978


def _fans(tensor: torch.Tensor) -> tuple[int, int]:
    if tensor.dim() < 2:
        return tensor.numel(), tensor.numel()
    receptive = math.prod(tensor.shape[2:]) if tensor.dim() > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _variance_scaling(tensor: torch.Tensor, scale: float, mode: str, distribution: str) -> torch.Tensor:
    fan_in, fan_out = _fans(tensor)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    variance = scale / max(1.0, fan)
    with torch.no_grad():
        if distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return tensor.uniform_(-limit, limit)
        std = math.sqrt(variance) / _TRUNCATED_STD
        return torch.nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std)


def _scaling(scale: float, mode: str, distribution: str) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda tensor: _variance_scaling(tensor, scale, mode, distribution)


#: Keras initializer name -> in-place torch initialisation.
INITIALIZERS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "glorot_uniform": _scaling(1.0, "fan_avg", "uniform"),
    "glorot_normal": _scaling(1.0, "fan_avg", "normal"),
    "he_uniform": _scaling(2.0, "fan_in", "uniform"),
    "he_normal": _scaling(2.0, "fan_in", "normal"),
    "lecun_uniform": _scaling(1.0, "fan_in", "uniform"),
    "lecun_normal": _scaling(1.0, "fan_in", "normal"),
    "orthogonal": torch.nn.init.orthogonal_,
    "zeros": torch.nn.init.zeros_,
    "ones": torch.nn.init.ones_,
    "random_uniform": lambda tensor: tensor.uniform_(-0.05, 0.05),
    "uniform": lambda tensor: tensor.uniform_(-0.05, 0.05),
    "random_normal": lambda tensor: tensor.normal_(0.0, 0.05),
    "normal": lambda tensor: tensor.normal_(0.0, 0.05),
    "truncated_normal": lambda tensor: torch.nn.init.trunc_normal_(tensor, 0.0, 0.05, -0.1, 0.1),
    "identity": torch.nn.init.eye_,
}


def initialize(tensor: torch.Tensor, name: InitializerName) -> torch.Tensor:
    """Fill `tensor` in place with the Keras initializer `name` (uses torch's global RNG)."""
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}: expected one of {', '.join(sorted(INITIALIZERS))}")
    with torch.no_grad():
        return INITIALIZERS[name](tensor)
