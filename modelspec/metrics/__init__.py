"""Metrics: Keras 3's names, arguments, reported names and values.

    metrics: [accuracy, {type: top_k_categorical_accuracy, k: 3}]      # in a spec

- `config`: the metric configs (pydantic, no torch), the reported names, Keras 3's rule for what
  "accuracy" stands for, and `METRICS`, the table that registers every metric: its names, aliases,
  config class and torch implementation;
- `runtime`: the stateful torch metrics and `build_metric`.

This package and its `config` never import torch; only `runtime` does:

    from modelspec.metrics import metric_config
    from modelspec.metrics.runtime import build_metric
    metric = build_metric(metric_config("acc"), "categorical_crossentropy", (10,))

Adding a metric: an entry in `config.METRICS` (with a config class beside it if it takes arguments),
its per-sample function (or Metric subclass) in `runtime` under the name the entry gives, and a case
in tests/test_metrics.py.
"""

from modelspec.metrics.config import (
    AUC,
    METRIC_ALIASES,
    METRIC_NAMES,
    METRICS,
    AccuracyType,
    BinaryAccuracy,
    MetricConfig,
    MetricKind,
    MetricName,
    MetricSpec,
    PlainMetric,
    PrecisionRecall,
    TopKAccuracy,
    label_problem,
    metric_config,
    metric_name,
    resolve_accuracy,
)

__all__ = [
    "AUC", "METRICS", "METRIC_ALIASES", "METRIC_NAMES",
    "AccuracyType", "BinaryAccuracy", "MetricConfig", "MetricKind", "MetricName", "MetricSpec", "PlainMetric",
    "PrecisionRecall", "TopKAccuracy",
    "label_problem", "metric_config", "metric_name", "resolve_accuracy",
]
