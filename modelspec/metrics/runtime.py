"""Keras 3 metrics on torch: stateful objects that accumulate on the tensors' device.

The implementations here are the ones modelspec.metrics.config's `METRICS` table names
("modelspec.metrics.runtime:<name>"): Metric subclasses, or per-sample functions that
`build_metric` averages with Keras's MeanMetricWrapper.

    metric = build_metric(metric_config("acc"), loss_config("categorical_crossentropy"), (10,))
    for y_true, y_pred in batches:
        metric.update(y_true, y_pred)      # no .item(), no host sync
    metric.result()                        # 0-dim tensor; metric.name == "acc"

The accuracy and regression metrics are Keras's MeanMetricWrapper: per-sample values, averaged
with sample weights (sum(w * v) / sum(w)). Precision, recall and AUC count a weighted confusion
matrix, as keras/src/metrics/metrics_utils.py does. State tensors are created on the first
update, on that update's device.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch
from torch import Tensor

from modelspec.config import Dimension
from modelspec.implementation import resolve
from modelspec.losses.config import LossSpec, loss_config
from modelspec.losses.runtime import (
    compute_dtype,
    divide_no_nan,
    squeeze_or_expand_to_same_rank,
)
from modelspec.losses.runtime import (
    mean_absolute_error as mean_absolute_error_loss,
)
from modelspec.losses.runtime import (
    mean_squared_error as mean_squared_error_loss,
)
from modelspec.metrics.config import (
    AUC,
    METRICS,
    MetricConfig,
    MetricSpec,
    PrecisionRecall,
    metric_config,
    resolve_accuracy,
)

Weight = Tensor | float | int | None


class Metric:
    """Base of the stateful metrics: `update(y_true, y_pred, sample_weight=None)`, `result()`, `reset()`."""

    def __init__(self, name: str):
        self.name = name
        self._state: dict[str, Tensor | float] = {}

    def _add(self, **increments: Tensor | float) -> None:
        for key, value in increments.items():
            value = value.detach() if isinstance(value, Tensor) else value
            self._state[key] = self._state[key] + value if key in self._state else value

    def update(self, y_true: Tensor, y_pred: Tensor, sample_weight: Weight = None) -> None:
        raise NotImplementedError

    def result(self) -> Tensor:
        raise NotImplementedError

    def reset(self) -> None:
        self._state = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def sum_states(metrics: Sequence[Metric], total: Callable[[Tensor], Tensor]) -> None:
    """Replace each metric's state by `total` of it: every state is a sum (totals, counts, confusion
    counts), so with `total` summing over processes the results are those of all their batches.

    The states go through `total` as one float64 vector (one collective), in the metrics' order.
    """
    entries = [(metric, key, value) for metric in metrics for key, value in metric._state.items()]
    if not entries:
        return
    device = next((v.device for _, _, v in entries if isinstance(v, Tensor)), torch.device("cpu"))
    flat = [torch.as_tensor(value, dtype=torch.float64, device=device).reshape(-1) for _, _, value in entries]
    summed = total(torch.cat(flat)).split([part.numel() for part in flat])
    for (metric, key, value), part in zip(entries, summed):
        if isinstance(value, Tensor):
            metric._state[key] = part.reshape(value.shape).to(device=value.device, dtype=value.dtype)
        else:
            metric._state[key] = float(part.item())


def _samplewise(values: Tensor, sample_weight: Weight) -> tuple[Tensor, Tensor | None]:
    """Keras's reduce_to_samplewise_values with mean: one value (and one weight) per sample."""
    weight = None
    if sample_weight is not None:
        weight = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
        values, weight = squeeze_or_expand_to_same_rank(values, weight)
        if values.dim() > weight.dim():
            values = values.mean(dim=tuple(range(weight.dim(), values.dim())))
        weight = weight.broadcast_to(values.shape)
        values = values * weight
        if weight.dim() > 1:
            weight = weight.mean(dim=tuple(range(1, weight.dim())))
    if values.dim() > 1:
        values = values.mean(dim=tuple(range(1, values.dim())))
    return values, weight


class Mean(Metric):
    """The weighted mean of values; the running loss uses `update(loss, sample_weight=batch_size)`.

    Weights given as Python numbers are counted on the host: no device tensor per batch.
    """

    def __init__(self, name: str = "mean"):
        super().__init__(name)

    def update(self, values: Tensor, sample_weight: Weight = None) -> None:  # type: ignore[override]
        values = values.detach()
        dtype = compute_dtype(values)
        if values.dtype != dtype:
            values = values.to(dtype)
        if values.dim() == 0 and isinstance(sample_weight, (int, float)):
            self._add(total=values * sample_weight, count=float(sample_weight))
            return
        if sample_weight is None:  # the metrics' per-sample values, every step: no weights to shape
            if values.dim() > 1:
                values = values.mean(dim=tuple(range(1, values.dim())))
            self._add(total=values.sum(), count=float(values.shape[0] if values.dim() else 1))
            return
        values, weight = _samplewise(values, sample_weight)
        count = weight.sum() if weight is not None else float(values.shape[0] if values.dim() else 1)
        self._add(total=values.sum(), count=count)

    def result(self) -> Tensor:
        total = self._state.get("total")
        if not isinstance(total, Tensor):
            return torch.tensor(0.0)
        count = torch.as_tensor(self._state["count"], dtype=total.dtype, device=total.device)
        return divide_no_nan(total, count)


class MeanMetricWrapper(Mean):
    """A per-sample function of (y_true, y_pred), averaged: the accuracies, mse and mae."""

    def __init__(self, fn: Callable[[Tensor, Tensor], Tensor], name: str):
        super().__init__(name)
        self.fn = fn

    def update(self, y_true: Tensor, y_pred: Tensor, sample_weight: Weight = None) -> None:  # type: ignore[override]
        super().update(self.fn(y_true.detach(), y_pred.detach()), sample_weight)


def same_rank(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
    """Keras's rank fix (squeeze_or_expand_to_same_rank); then labels one rank below the prediction (class ids
    against a softmax) take a last axis of 1 and broadcast against every column: Keras 3's value for the same
    ids shaped (n, 1) (tf.keras 2 expanded rank-1 labels so; Keras 3 raises a shape error on them)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true.unsqueeze(-1) if y_true.dim() == y_pred.dim() - 1 else y_true), y_pred


def binary_accuracy(y_true: Tensor, y_pred: Tensor, threshold: float = 0.5) -> Tensor:
    y_true, y_pred = same_rank(y_true, y_pred)
    predicted = (y_pred > threshold).to(y_true.dtype)
    return (y_true == predicted).to(torch.float32).mean(dim=-1)


def categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).to(torch.float32)


def sparse_categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return (y_true == y_pred.argmax(dim=-1).to(y_true.dtype)).to(torch.float32)


def _in_top_k(labels: Tensor, y_pred: Tensor, k: int) -> Tensor:
    # keras.ops.in_top_k: the label's score is at least the k-th largest (ties count as in).
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    kth = scores.topk(min(k, scores.shape[-1]), dim=-1).values[:, -1]
    target = scores.gather(-1, labels.reshape(-1, 1).long()).squeeze(-1)
    return (target >= kth).to(torch.float32).reshape(labels.shape)


def top_k_categorical_accuracy(y_true: Tensor, y_pred: Tensor, k: int = 5) -> Tensor:
    return _in_top_k(y_true.argmax(dim=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: Tensor, y_pred: Tensor, k: int = 5) -> Tensor:
    return _in_top_k(y_true, y_pred, k)


def _regression(fn: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    def metric(y_true: Tensor, y_pred: Tensor) -> Tensor:
        y_pred = y_pred.to(compute_dtype(y_pred))
        return fn(*same_rank(y_true.to(y_pred.dtype), y_pred))

    return metric


def _confusion_inputs(
    y_true: Tensor, y_pred: Tensor, sample_weight: Weight, class_id: int | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Keras's update_confusion_matrix_variables preamble: (labels as bool, predictions, weights), same shape."""
    y_pred = y_pred.detach().to(compute_dtype(y_pred))
    y_true = y_true.detach().to(y_pred.dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    weight = torch.ones((), dtype=y_pred.dtype, device=y_pred.device)
    if sample_weight is not None:
        weight = torch.as_tensor(sample_weight, dtype=y_pred.dtype, device=y_pred.device).unsqueeze(-1)
        _, weight = squeeze_or_expand_to_same_rank(y_true, weight, expand_rank_1=False)
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    return y_true != 0, y_pred, weight.broadcast_to(y_pred.shape)


class PrecisionRecallMetric(Metric):
    """Precision tp / (tp + fp) or recall tp / (tp + fn), a prediction above `thresholds` being positive."""

    def __init__(self, config: PrecisionRecall, name: str):
        super().__init__(name)
        self.config = config

    def update(self, y_true: Tensor, y_pred: Tensor, sample_weight: Weight = None) -> None:
        labels, y_pred, weight = _confusion_inputs(y_true, y_pred, sample_weight, self.config.class_id)
        positive = y_pred > self.config.thresholds
        missed = labels & ~positive if self.config.type == "recall" else ~labels & positive
        self._add(tp=((labels & positive) * weight).sum(), wrong=(missed * weight).sum())

    def result(self) -> Tensor:
        tp = self._state.get("tp")
        if not isinstance(tp, Tensor):
            return torch.tensor(0.0)
        return divide_no_nan(tp, tp + self._state["wrong"])


class AUCMetric(Metric):
    """Keras's AUC: a confusion matrix at `num_thresholds` evenly spaced thresholds, then a Riemann sum.

    The thresholds are i / (n - 1) with the ends moved to -1e-7 and 1 + 1e-7; a prediction p
    falls in bucket max(ceil(p * (n - 1)) - 1, 0) and counts as positive at every threshold of
    that bucket and below (Keras's _update_confusion_matrix_variables_optimized).
    """

    def __init__(self, config: AUC, name: str):
        super().__init__(name)
        self.config = config

    def update(self, y_true: Tensor, y_pred: Tensor, sample_weight: Weight = None) -> None:
        if self.config.from_logits:
            y_pred = torch.sigmoid(y_pred)
        labels, y_pred, weight = _confusion_inputs(y_true, y_pred, sample_weight)
        n = self.config.num_thresholds
        labels = labels.reshape(-1).to(y_pred.dtype)
        weight = weight.reshape(-1)
        true_labels, false_labels = labels * weight, (1.0 - labels) * weight
        buckets = (torch.ceil(y_pred.reshape(-1).clamp(0.0, 1.0) * (n - 1)) - 1).clamp_min(0).long()

        def above(values: Tensor) -> Tensor:
            counts = torch.zeros(n, dtype=values.dtype, device=values.device).index_add_(0, buckets, values)
            return counts.flip(0).cumsum(0).flip(0)

        tp, fp = above(true_labels), above(false_labels)
        self._add(tp=tp, fp=fp, tn=false_labels.sum() - fp, fn=true_labels.sum() - tp)

    def result(self) -> Tensor:
        if not isinstance(self._state.get("tp"), Tensor):
            return torch.tensor(0.0)
        tp, fp, tn, fn = (self._state[key] for key in ("tp", "fp", "tn", "fn"))
        return auc_from_counts(tp, fp, tn, fn, self.config.curve, self.config.summation_method)


def _interpolate_pr_auc(tp: Tensor, fp: Tensor, fn: Tensor) -> Tensor:
    # Keras's AUC.interpolate_pr_auc (Davis & Goadrich 2006): TP and P = TP + FP linear per bucket.
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = divide_no_nan(dtp, dp.clamp_min(0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = torch.where(both, divide_no_nan(p[:-1], p[1:].clamp_min(0)), torch.ones_like(p[1:]))
    return divide_no_nan(slope * (dtp + intercept * torch.log(ratio)), (tp[1:] + fn[1:]).clamp_min(0)).sum()


_HEIGHTS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "interpolation": lambda left, right: (left + right) / 2.0,
    "minoring": torch.minimum,
    "majoring": torch.maximum,
}


def auc_from_counts(tp: Tensor, fp: Tensor, tn: Tensor, fn: Tensor, curve: str, summation_method: str) -> Tensor:
    """Keras's AUC.result on the confusion counts at each threshold (ascending thresholds)."""
    if curve == "PR" and summation_method == "interpolation":
        return _interpolate_pr_auc(tp, fp, fn)
    recall = divide_no_nan(tp, tp + fn)
    x, y = (divide_no_nan(fp, fp + tn), recall) if curve == "ROC" else (recall, divide_no_nan(tp, tp + fp))
    return ((x[:-1] - x[1:]) * _HEIGHTS[summation_method](y[:-1], y[1:])).sum()


#: The regression metrics: the losses' per-sample values, on float32 (or float64) and the same rank.
mean_squared_error = _regression(mean_squared_error_loss)
mean_absolute_error = _regression(mean_absolute_error_loss)


def _implementation(config: MetricConfig) -> Metric:
    """The metric its `METRICS` entry names: a Metric subclass, or a per-sample function averaged."""
    found = resolve(METRICS[config.type].runtime)
    if isinstance(found, type) and issubclass(found, Metric):
        return found(config, config.name)
    arguments = {key: getattr(config, key) for key in type(config).model_fields if key not in ("type", "name")}
    return MeanMetricWrapper(partial(found, **arguments), config.name)


def build_metric(spec: MetricSpec, loss: LossSpec | None, output_shape: Sequence[Dimension]) -> Metric:
    """The metric for a spec or config; "accuracy" resolves from the output's loss and shape (Keras 3's rule)."""
    config = metric_config(spec)
    if config.type == "accuracy":
        loss_type = loss_config(loss).type if loss is not None else None
        resolved = resolve_accuracy(loss_type, output_shape)
        config = metric_config(resolved).model_copy(update={"name": config.name})
    return _implementation(config)
