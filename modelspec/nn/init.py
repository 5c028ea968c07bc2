"""Keras initializers on torch tensors in PyTorch's layout.

Fan-in and fan-out are computed the way Keras computes them: for a kernel of torch shape
(out, in, *kernel_size), fan_in = in * prod(kernel_size) and fan_out = out * prod(kernel_size),
which is what Keras gets from its (*kernel_size, in, out) layout. Keras's "normal" variance-scaling
initializers draw from a normal truncated at two standard deviations.
"""

from __future__ import annotations

import math

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


def initialize(tensor: torch.Tensor, name: InitializerName) -> torch.Tensor:
    """Fill `tensor` in place with the Keras initializer `name` (uses torch's global RNG)."""
    with torch.no_grad():
        if name == "glorot_uniform":
            return _variance_scaling(tensor, 1.0, "fan_avg", "uniform")
        if name == "glorot_normal":
            return _variance_scaling(tensor, 1.0, "fan_avg", "normal")
        if name == "he_uniform":
            return _variance_scaling(tensor, 2.0, "fan_in", "uniform")
        if name == "he_normal":
            return _variance_scaling(tensor, 2.0, "fan_in", "normal")
        if name == "lecun_uniform":
            return _variance_scaling(tensor, 1.0, "fan_in", "uniform")
        if name == "lecun_normal":
            return _variance_scaling(tensor, 1.0, "fan_in", "normal")
        if name == "orthogonal":
            return torch.nn.init.orthogonal_(tensor)
        if name == "zeros":
            return tensor.zero_()
        if name == "ones":
            return tensor.fill_(1.0)
        if name in ("random_uniform", "uniform"):
            return tensor.uniform_(-0.05, 0.05)
        if name in ("random_normal", "normal"):
            return tensor.normal_(0.0, 0.05)
        if name == "truncated_normal":
            return torch.nn.init.trunc_normal_(tensor, 0.0, 0.05, -0.1, 0.1)
        if name == "identity":
            return torch.nn.init.eye_(tensor)
    raise ValueError(f"unknown initializer {name!r}")
