"""Metric specs, as Keras spells them: a name or a config dict. The torch side is modelspec.training.metrics.

    metrics: [accuracy, {type: top_k_categorical_accuracy, k: 3}, {type: auc, num_thresholds: 200}]

A metric is reported under the name the user wrote (`acc`, `mse`), or for a mapping its `name`
or its type; multi-output models prefix it with the output's name (`main_output_acc`).
No torch here: this module is used while validating specs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

from pydantic import Field, TypeAdapter

from modelspec.config import (
    Dimension,
    Identifier,
    NonNegativeInt,
    PositiveInt,
    StrictModel,
)
from modelspec.losses import LOSS_ALIASES, name_or_config

MetricName = Literal[
    "accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mean_squared_error", "mse", "mean_absolute_error", "mae", "precision", "recall", "auc",
]

#: Every name a spec may use, aliases included.
METRIC_NAMES: tuple[str, ...] = get_args(MetricName)

METRIC_ALIASES: dict[str, str] = {"acc": "accuracy", "mse": "mean_squared_error", "mae": "mean_absolute_error"}

#: What "accuracy" may resolve to; see resolve_accuracy.
AccuracyType = Literal["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy"]


class PlainMetric(StrictModel):
    """A metric without arguments, e.g. `{type: mse, name: error}`."""

    type: Literal[
        "accuracy", "acc", "categorical_accuracy", "sparse_categorical_accuracy",
        "mean_squared_error", "mse", "mean_absolute_error", "mae",
    ]
    name: Identifier | None = None


class BinaryAccuracy(StrictModel):
    """`{type: binary_accuracy, threshold: 0.5}`: a prediction above `threshold` counts as 1."""

    type: Literal["binary_accuracy"]
    threshold: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    name: Identifier | None = None


class TopKAccuracy(StrictModel):
    """`{type: top_k_categorical_accuracy, k: 5}`: the label is among the `k` highest predictions."""

    type: Literal["top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"]
    k: PositiveInt = 5
    name: Identifier | None = None


class PrecisionRecall(StrictModel):
    """`{type: precision, thresholds: 0.5, class_id: null}`: a prediction above `thresholds` is positive."""

    type: Literal["precision", "recall"]
    thresholds: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    class_id: NonNegativeInt | None = None
    name: Identifier | None = None


class AUC(StrictModel):
    """`{type: auc, num_thresholds: 200, curve: ROC, summation_method: interpolation, from_logits: false}`."""

    type: Literal["auc"]
    num_thresholds: Annotated[int, Field(gt=1)] = 200
    curve: Literal["ROC", "PR"] = "ROC"
    summation_method: Literal["interpolation", "minoring", "majoring"] = "interpolation"
    from_logits: bool = False
    name: Identifier | None = None


MetricConfig = PlainMetric | BinaryAccuracy | TopKAccuracy | PrecisionRecall | AUC

_METRIC_CONFIGS: dict[str, type[StrictModel]] = {
    name: cls for cls in get_args(MetricConfig) for name in get_args(cls.model_fields["type"].annotation)
}

if TYPE_CHECKING:
    MetricSpec = MetricName | MetricConfig
else:
    #: The field type of one metric in a spec: `acc` or `{type: auc, num_thresholds: 100}`.
    MetricSpec = name_or_config("metric", _METRIC_CONFIGS)

@functools.cache
def _config_adapter() -> TypeAdapter[MetricConfig]:
    """Built on first use: building pydantic validators at import slows every command."""
    return TypeAdapter(Annotated[MetricConfig, Field(discriminator="type")])


def metric_config(spec: MetricSpec | dict[str, Any]) -> MetricConfig:
    """The config of a metric spec: aliases resolved, `name` set to the name Keras reports.

    `acc` -> `PlainMetric(type='accuracy', name='acc')`; `{type: mse}` -> name `mean_squared_error`.
    "accuracy" stays unresolved here: resolve_accuracy needs the loss and the output shape.
    """
    written = spec if isinstance(spec, str) else None
    raw = {"type": spec} if isinstance(spec, str) else spec
    if written in _METRIC_CONFIGS:  # a known name: the class's defaults, no validator to build
        config = _METRIC_CONFIGS[written].model_construct(type=written)
    else:
        config = _config_adapter().validate_python(raw) if isinstance(raw, dict) else raw
    canonical = METRIC_ALIASES.get(config.type, config.type)
    return config.model_copy(update={"type": canonical, "name": config.name or written or canonical})


def metric_name(spec: MetricSpec | dict[str, Any], output_name: str | None = None) -> str:
    """The name Keras reports: `acc`, or `out_acc` when `output_name` is given (multi-output models)."""
    name = metric_config(spec).name
    return f"{output_name}_{name}" if output_name else name


def resolve_accuracy(loss_name: str | None, output_shape: Sequence[Dimension]) -> AccuracyType:
    """The metric "accuracy" stands for, by Keras 3's rule (trainers/compile_utils.get_metric).

    Keras looks at shapes: binary when the prediction's last dim is 1; sparse categorical when
    the labels have a lower rank than the prediction, or a last dim of 1 against more than one
    class; categorical otherwise. A spec has no label shapes, so the loss stands for them:
    sparse_categorical_crossentropy takes integer labels, every other loss labels shaped like
    the output. So binary_crossentropy on a (n > 1)-wide multi-label output gives
    categorical_accuracy, as in Keras 3 (Keras 2 gave binary_accuracy).
    """
    if output_shape and output_shape[-1] == 1:
        return "binary_accuracy"
    if LOSS_ALIASES.get(loss_name or "", loss_name) == "sparse_categorical_crossentropy":
        return "sparse_categorical_accuracy"
    return "categorical_accuracy"
