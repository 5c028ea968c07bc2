"""Keras's activation layers as torch modules, for the settings that modelspec.nn.activations has no name for.

ReLU with a ceiling, a threshold or a slope; LeakyReLU with a slope other than 0.2; ELU with alpha
other than 1; Softmax over other axes; PReLU with its learned alpha.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.initializers import InitializerName
from modelspec.nn.init import initialize


def keras_relu(x: torch.Tensor, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> torch.Tensor:
    """Keras 3's relu, step by step: x if threshold < x (clipped to max_value), negative_slope * (x - threshold) below.

    As in Keras: with a threshold, x == threshold gives 0; without one the positive part is relu(x).
    """
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return F.leaky_relu(x, negative_slope)
    negative_part = F.relu(threshold - x) if negative_slope != 0.0 else None
    if threshold != 0.0:
        x = x * (x > threshold).to(x.dtype)
    else:
        x = F.relu(x)
    if max_value is not None:
        x = x.clamp(0.0, max_value)
    if negative_part is not None:
        x = x - negative_slope * negative_part
    return x


class KerasReLU(nn.Module):
    """Args: max_value (None: no ceiling), negative_slope, threshold. Shape: unchanged."""

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0):
        super().__init__()
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return keras_relu(x, self.negative_slope, self.max_value, self.threshold)

    def extra_repr(self) -> str:
        return f"max_value={self.max_value}, negative_slope={self.negative_slope}, threshold={self.threshold}"


class KerasLeakyReLU(nn.Module):
    """x for x >= 0, negative_slope * x below. Shape: unchanged."""

    def __init__(self, negative_slope: float = 0.3):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class KerasELU(nn.Module):
    """x for x > 0, alpha * (exp(x) - 1) below. Shape: unchanged."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class KerasSoftmax(nn.Module):
    """Softmax over one axis, or jointly over several (exp(x - logsumexp(x, axes))).

    Args: axes (non-negative or negative indices of the input, batch first). Shape: unchanged.
    """

    def __init__(self, axes: tuple[int, ...]):
        super().__init__()
        self.axes = tuple(axes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(self.axes) == 1:
            return torch.softmax(x, dim=self.axes[0])
        return torch.exp(x - torch.logsumexp(x, dim=self.axes, keepdim=True))

    def extra_repr(self) -> str:
        return f"axes={self.axes}"


class KerasPReLU(nn.Module):
    """relu(x) - alpha * relu(-x) with a learned alpha shaped like the input without its batch axis
    (size 1 on the shared axes). Args: alpha_shape, alpha_initializer (Keras: zeros). Shape: unchanged.
    """

    def __init__(self, alpha_shape: tuple[int, ...], *, alpha_initializer: InitializerName = "zeros"):
        super().__init__()
        self.alpha = nn.Parameter(torch.empty(alpha_shape))
        self.alpha_initializer = alpha_initializer
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize(self.alpha, self.alpha_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x) - self.alpha * F.relu(-x)

    def extra_repr(self) -> str:
        return f"alpha_shape={tuple(self.alpha.shape)}"
