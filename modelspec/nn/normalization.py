"""Keras's normalization layers as torch modules: BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization.

All follow Keras's arithmetic: inv = rsqrt(variance + epsilon) * gamma; output = x * inv + (beta - mean * inv),
with the biased (population) variance. Axes are non-negative indices of the input, batch first.
"""

from __future__ import annotations

import torch
from torch import nn

from modelspec.initializers import InitializerName
from modelspec.nn.init import initialize

#: Keras's backend epsilon, added to the count of kept entries in masked moments.
_KERAS_EPSILON = 1e-7


def _affine(shape: tuple[int, ...], enabled: bool) -> nn.Parameter | None:
    return nn.Parameter(torch.empty(shape)) if enabled else None


def _normalize(x: torch.Tensor, mean: torch.Tensor, variance: torch.Tensor, epsilon: float,
               gamma: torch.Tensor | None, beta: torch.Tensor | None) -> torch.Tensor:
    """Keras's ops.batch_normalization / LayerNormalization step; every tensor broadcasts against x."""
    inv = torch.rsqrt(variance + epsilon)
    if gamma is not None:
        inv = inv * gamma
    shift = -mean * inv
    if beta is not None:
        shift = shift + beta
    return x * inv + shift


class _GammaBeta(nn.Module):
    """gamma and beta (either may be absent) with Keras's initializers."""

    def __init__(self, shape: tuple[int, ...], *, center: bool, scale: bool,
                 beta_initializer: InitializerName, gamma_initializer: InitializerName):
        super().__init__()
        self.gamma = _affine(shape, scale)
        self.beta = _affine(shape, center)
        self.beta_initializer = beta_initializer
        self.gamma_initializer = gamma_initializer

    def reset_parameters(self) -> None:
        if self.gamma is not None:
            initialize(self.gamma, self.gamma_initializer)
        if self.beta is not None:
            initialize(self.beta, self.beta_initializer)


class KerasBatchNormalization(_GammaBeta):
    """Batch normalization with Keras's moving statistics.

    Args: features (size of `axis`), axis (non-negative), momentum, epsilon, center, scale, initializers;
    frozen: the layer is not trainable, so that it always uses the moving statistics (Keras).
    Shape: unchanged.

    Training: normalizes with the batch mean and biased variance over every axis but `axis`, then
    moving = moving * momentum + batch * (1 - momentum) for both statistics (torch's BatchNorm
    would store the unbiased variance). A mask (batch, steps, ...) of one axis less than the input
    leaves the masked entries out of the batch statistics. Inference: uses the moving statistics.
    The moving statistics are persistent buffers (Keras's non-trainable weights).
    """

    def __init__(
        self,
        features: int,
        *,
        axis: int,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: InitializerName = "zeros",
        gamma_initializer: InitializerName = "ones",
        moving_mean_initializer: InitializerName = "zeros",
        moving_variance_initializer: InitializerName = "ones",
        frozen: bool = False,
    ):
        super().__init__((features,), center=center, scale=scale, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer)
        self.axis = axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.frozen = frozen
        self.register_buffer("moving_mean", torch.empty(features))
        self.register_buffer("moving_variance", torch.empty(features))
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        initialize(self.moving_mean, self.moving_mean_initializer)
        initialize(self.moving_variance, self.moving_variance_initializer)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        shape = [1] * x.dim()
        shape[self.axis] = -1
        if self.training and not self.frozen:
            mean, variance = self._moments(x, mask)
            with torch.no_grad():
                m = self.momentum
                self.moving_mean.copy_(self.moving_mean * m + mean.detach() * (1.0 - m))
                self.moving_variance.copy_(self.moving_variance * m + variance.detach() * (1.0 - m))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        gamma = None if self.gamma is None else self.gamma.view(shape)
        beta = None if self.beta is None else self.beta.view(shape)
        return _normalize(x, mean.view(shape), variance.view(shape), self.epsilon, gamma, beta)

    def _moments(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        axes = [d for d in range(x.dim()) if d != self.axis]
        if mask is None:
            return x.mean(axes), x.var(axes, correction=0)
        if mask.dim() != x.dim() - 1:
            raise ValueError(f"the mask should have one dimension less than the inputs, received mask {tuple(mask.shape)} for inputs {tuple(x.shape)}")
        weights = mask.to(x.dtype).unsqueeze(-1).expand_as(x)
        count = weights.sum(axes) + _KERAS_EPSILON
        mean = (weights * x).sum(axes) / count
        shape = [1] * x.dim()
        shape[self.axis] = -1
        variance = (weights * (x - mean.view(shape)).square()).sum(axes) / count
        return mean, variance

    def extra_repr(self) -> str:
        return (f"features={self.moving_mean.shape[0]}, axis={self.axis}, momentum={self.momentum}, epsilon={self.epsilon}, "
                f"center={self.beta is not None}, scale={self.gamma is not None}, frozen={self.frozen}")


class KerasLayerNormalization(_GammaBeta):
    """Layer normalization over `axes` of each sample; gamma and beta span those axes.

    Args: axes (non-negative, in the order of Keras's `axis`: gamma's shape follows it), sizes (the
    input's sizes on those axes), epsilon, center, scale, initializers.
    Shape: unchanged.
    """

    def __init__(self, axes: tuple[int, ...], sizes: tuple[int, ...], *, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: InitializerName = "zeros", gamma_initializer: InitializerName = "ones"):
        super().__init__(sizes, center=center, scale=scale, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer)
        self.axes = tuple(axes)
        self.epsilon = epsilon
        self.reset_parameters()

    def _broadcast(self, weight: torch.Tensor | None, rank: int) -> torch.Tensor | None:
        """gamma/beta (shaped in `axes` order) laid out to broadcast against an input of this rank."""
        if weight is None:
            return None
        order = sorted(range(len(self.axes)), key=lambda i: self.axes[i])
        shape = [1] * rank
        for a, size in zip(self.axes, weight.shape):
            shape[a] = size
        return weight.permute(order).reshape(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(self.axes, keepdim=True)
        variance = x.var(self.axes, correction=0, keepdim=True)
        return _normalize(x, mean, variance, self.epsilon, self._broadcast(self.gamma, x.dim()), self._broadcast(self.beta, x.dim()))

    def extra_repr(self) -> str:
        return f"axes={self.axes}, epsilon={self.epsilon}, center={self.beta is not None}, scale={self.gamma is not None}"


class KerasGroupNormalization(_GammaBeta):
    """Group normalization: the channels on `axis` split into `groups`; each sample's group is normalized over
    its channels and every other non-batch axis. gamma and beta are per channel.

    Args: channels, groups (divides channels), axis (non-negative), epsilon, center, scale, initializers.
    Shape: unchanged.
    """

    def __init__(self, channels: int, groups: int, *, axis: int, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: InitializerName = "zeros", gamma_initializer: InitializerName = "ones"):
        super().__init__((channels,), center=center, scale=scale, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer)
        self.channels = channels
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, size = self.axis, x.shape[self.axis]
        grouped = x.reshape(*x.shape[:a], self.groups, size // self.groups, *x.shape[a + 1 :])
        axes = [d for d in range(1, grouped.dim()) if d != a]
        mean = grouped.mean(axes, keepdim=True)
        variance = grouped.var(axes, correction=0, keepdim=True)
        shape = [1] * grouped.dim()
        shape[a], shape[a + 1] = self.groups, size // self.groups
        gamma = None if self.gamma is None else self.gamma.view(shape)
        beta = None if self.beta is None else self.beta.view(shape)
        return _normalize(grouped, mean, variance, self.epsilon, gamma, beta).reshape(x.shape)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, groups={self.groups}, axis={self.axis}, epsilon={self.epsilon}"


class KerasUnitNormalization(nn.Module):
    """x / sqrt(max(sum(x^2 over axes), 1e-12)): each sample has an L2 norm of 1 across `axes`.

    Args: axes (non-negative). Shape: unchanged.
    """

    def __init__(self, axes: tuple[int, ...]):
        super().__init__()
        self.axes = tuple(axes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().sum(self.axes, keepdim=True).clamp(min=1e-12))

    def extra_repr(self) -> str:
        return f"axes={self.axes}"
