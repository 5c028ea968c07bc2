"""Keras 3 losses on torch: per-sample values, then Keras's "sum_over_batch_size" reduction.

The per-sample functions here are the ones modelspec.losses.config's `LOSSES` table names
("modelspec.losses.runtime:<name>"); `build_loss` looks a loss up there and wraps its function.

    loss_fn = build_loss(loss_config("categorical_crossentropy"))
    loss = loss_fn(y_true, y_pred, sample_weight)   # 0-dim tensor

Each loss follows keras/src/losses/losses.py and the torch backend's nn.py: the per-sample value
is reduced over the last axis (mean for mse, mae, bce...; sum for the cross-entropies), then
weighted by `sample_weight` and summed over every element, divided by the number of elements
(the batch size for (batch, d) outputs, batch * steps for (batch, steps, d) ones). Cross-entropy
on probabilities renormalises the categorical ones to sum 1 and clips to [1e-7, 1 - 1e-7].
Everything is vectorised: no .item(), no host sync.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

from modelspec.implementation import resolve
from modelspec.losses.config import (
    LOSSES,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    LossConfig,
    LossSpec,
    SparseCategoricalCrossentropy,
    loss_config,
)

EPSILON = 1e-7  # keras.backend.epsilon()

PerSample = Callable[[Tensor, Tensor, LossConfig], Tensor]


class LossFn(Protocol):
    def __call__(self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor: ...


def squeeze_or_expand_to_same_rank(x1: Tensor, x2: Tensor, expand_rank_1: bool = True) -> tuple[Tensor, Tensor]:
    """Keras's rank fix: when ranks differ by one and the longer ends in 1, squeeze it (or expand a rank-1 other)."""
    if x1.dim() == x2.dim() + 1 and x1.shape[-1] == 1:
        return (x1, x2.unsqueeze(-1)) if x2.dim() == 1 and expand_rank_1 else (x1.squeeze(-1), x2)
    if x2.dim() == x1.dim() + 1 and x2.shape[-1] == 1:
        return (x1.unsqueeze(-1), x2) if x1.dim() == 1 and expand_rank_1 else (x1, x2.squeeze(-1))
    return x1, x2


def divide_no_nan(x: Tensor, y: Tensor) -> Tensor:
    """x / y, and 0 where y is 0."""
    return torch.where(y == 0, torch.zeros_like(x), x / torch.where(y == 0, torch.ones_like(y), y))


def _log_probs(y_pred: Tensor, from_logits: bool) -> Tensor:
    # keras/src/backend/torch/nn.py: renormalise probabilities, clip, log.
    if from_logits:
        return F.log_softmax(y_pred, dim=-1)
    probs = y_pred / y_pred.sum(dim=-1, keepdim=True)
    return torch.log(probs.clamp(EPSILON, 1.0 - EPSILON))


def categorical_crossentropy(y_true: Tensor, y_pred: Tensor, config: CategoricalCrossentropy) -> Tensor:
    smoothing = config.label_smoothing
    if smoothing:
        y_true = y_true * (1.0 - smoothing) + smoothing / y_true.shape[-1]
    return -(y_true * _log_probs(y_pred, config.from_logits)).sum(dim=-1)


def sparse_categorical_crossentropy(
    y_true: Tensor, y_pred: Tensor, config: SparseCategoricalCrossentropy
) -> Tensor:
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    labels = y_true.long()
    valid = None
    if config.ignore_class is not None:
        valid = labels != config.ignore_class
        labels = labels * valid
    values = -_log_probs(y_pred, config.from_logits).gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    if valid is None:
        return values
    # Keras masks the ignored samples; "sum_over_batch_size" then divides by the valid count.
    # Folding total / valid into the values gives that mean after the plain reduction.
    count = valid.sum().to(values.dtype)
    scale = divide_no_nan(torch.full_like(count, float(valid.numel())), count)
    return torch.where(valid, values, torch.zeros_like(values)) * scale


def binary_crossentropy(y_true: Tensor, y_pred: Tensor, config: BinaryCrossentropy) -> Tensor:
    smoothing = config.label_smoothing
    if smoothing:
        y_true = y_true * (1.0 - smoothing) + 0.5 * smoothing
    if config.from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        # F.binary_cross_entropy's formula, written out: that op refuses to run under autocast.
        probs = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        values = -(y_true * torch.log(probs) + (1.0 - y_true) * torch.log(1.0 - probs))
    return values.mean(dim=-1)


def huber(y_true: Tensor, y_pred: Tensor, config: Huber) -> Tensor:
    error = y_pred - y_true
    abs_error = error.abs()
    delta = config.delta
    return torch.where(abs_error <= delta, 0.5 * error.square(), delta * abs_error - 0.5 * delta**2).mean(dim=-1)


def mean_squared_error(y_true: Tensor, y_pred: Tensor, config: LossConfig | None = None) -> Tensor:
    return (y_true - y_pred).square().mean(dim=-1)


def mean_absolute_error(y_true: Tensor, y_pred: Tensor, config: LossConfig | None = None) -> Tensor:
    return (y_true - y_pred).abs().mean(dim=-1)


def mean_absolute_percentage_error(y_true: Tensor, y_pred: Tensor, config: LossConfig) -> Tensor:
    return 100.0 * ((y_true - y_pred) / y_true.abs().clamp_min(EPSILON)).abs().mean(dim=-1)


def mean_squared_logarithmic_error(y_true: Tensor, y_pred: Tensor, config: LossConfig) -> Tensor:
    first = torch.log(y_pred.clamp_min(EPSILON) + 1.0)
    second = torch.log(y_true.clamp_min(EPSILON) + 1.0)
    return (first - second).square().mean(dim=-1)


def kl_divergence(y_true: Tensor, y_pred: Tensor, config: LossConfig) -> Tensor:
    y_true = y_true.clamp(EPSILON, 1.0)
    y_pred = y_pred.clamp(EPSILON, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(dim=-1)


def poisson(y_true: Tensor, y_pred: Tensor, config: LossConfig) -> Tensor:
    return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(dim=-1)


def _hinge_labels(y_true: Tensor) -> Tensor:
    # 0/1 labels become -1/1 when every label is 0 or 1; a tensor-side choice, no host sync.
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Tensor, y_pred: Tensor, config: LossConfig) -> Tensor:
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0).mean(dim=-1)


def squared_hinge(y_true: Tensor, y_pred: Tensor, config: LossConfig) -> Tensor:
    return (1.0 - _hinge_labels(y_true) * y_pred).clamp_min(0.0).square().mean(dim=-1)


def categorical_hinge(y_true: Tensor, y_pred: Tensor, config: LossConfig) -> Tensor:
    pos = (y_true * y_pred).sum(dim=-1)
    neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
    return (neg - pos + 1.0).clamp_min(0.0)


def _l2_normalize(x: Tensor) -> Tensor:
    # keras.ops.normalize: x * min(rsqrt(sum(x^2)), 1 / epsilon).
    return x * torch.rsqrt(x.square().sum(dim=-1, keepdim=True)).clamp_max(1.0 / EPSILON)


def cosine_similarity(y_true: Tensor, y_pred: Tensor, config: LossConfig) -> Tensor:
    return -(_l2_normalize(y_true) * _l2_normalize(y_pred)).sum(dim=-1)


def log_cosh(y_true: Tensor, y_pred: Tensor, config: LossConfig) -> Tensor:
    error = y_pred - y_true
    return (error + F.softplus(-2.0 * error) - math.log(2.0)).mean(dim=-1)


def per_sample(name: str) -> PerSample:
    """The per-sample function of a canonical loss name: its `LOSSES` entry's runtime reference, resolved."""
    return resolve(LOSSES[name].runtime)


#: dtype -> its promotion with float32, remembered: torch.promote_types is a dispatched op, and this runs every step.
_COMPUTE_DTYPES: dict[torch.dtype, torch.dtype] = {}


def compute_dtype(y_pred: Tensor) -> torch.dtype:
    """Keras computes losses and metrics in float32; float64 inputs stay float64."""
    dtype = y_pred.dtype
    found = _COMPUTE_DTYPES.get(dtype)
    if found is None:
        found = _COMPUTE_DTYPES[dtype] = torch.promote_types(dtype, torch.float32)
    return found


def reduce_weighted(values: Tensor, sample_weight: Tensor | None) -> Tensor:
    """Keras's "sum_over_batch_size": sum(values * sample_weight) / number of values.

    Weights of shape (batch,) against values of shape (batch, steps) apply to every step.
    """
    if sample_weight is not None:
        weight = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
        values, weight = squeeze_or_expand_to_same_rank(values, weight)
        weight = weight.reshape(weight.shape + (1,) * (values.dim() - weight.dim()))
        values = values * weight
    if values.dim() == 0:
        return values
    return values.sum() / max(values.numel(), 1)


class KerasLoss:
    """A loss as Keras's LossFunctionWrapper calls it: rank fix, per-sample values, reduction."""

    def __init__(self, config: LossConfig, fn: PerSample):
        self.config = config
        self.fn = fn

    def __call__(self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
        dtype = compute_dtype(y_pred)
        if y_pred.dtype != dtype:
            y_pred = y_pred.to(dtype)
        if y_true.dtype != dtype:
            y_true = y_true.to(dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return reduce_weighted(self.fn(y_true, y_pred, self.config), sample_weight)

    def __repr__(self) -> str:
        return f"KerasLoss({self.config!r})"


def build_loss(spec: LossSpec) -> LossFn:
    """A callable (y_true, y_pred, sample_weight=None) -> 0-dim loss, for a loss spec or config."""
    config = loss_config(spec)
    return KerasLoss(config, per_sample(config.type))
