"""Metric specs, as Keras spells them, and the table that registers every metric. The torch side is modelspec.metrics.runtime.

    metrics: [accuracy, {type: top_k_categorical_accuracy, k: 3}, {type: auc, num_thresholds: 200}]

A metric is reported under the name the user wrote (`acc`, `mse`), or for a mapping its `name`
or its type; multi-output models prefix it with the output's name (`main_output_acc`).

`METRICS` is the one registration point: each `MetricKind` entry gives a metric's canonical name,
its aliases, its config class (PlainMetric when it has no arguments) and its torch implementation
as a "module:attribute" reference. The spec's schema (`MetricSpec`, `PlainMetric.type`),
`METRIC_NAMES` and `METRIC_ALIASES` come from it.

No torch here: this module is used while validating specs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

from pydantic import Field, TypeAdapter

from modelspec.config import (
    Dimension,
    Identifier,
    NonNegativeInt,
    PositiveInt,
    StrictModel,
)
from modelspec.implementation import check_reference
from modelspec.identifiers import literal_names, name_or_config
from modelspec.losses.config import LABEL_KINDS, LOSS_ALIASES

#: Where a metric's implementation lives unless its entry names another "module:attribute".
RUNTIME = "modelspec.metrics.runtime"

#: What "accuracy" may resolve to; see resolve_accuracy.
AccuracyType = Literal["binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy"]


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


@dataclass(frozen=True)
class MetricKind:
    """One metric, everything modelspec knows about it.

    `config` is the class of its arguments (None: none, the shared PlainMetric). `runtime` names its
    torch implementation, by default `RUNTIME:<name>`: a Metric subclass, built from the config, or a
    per-sample function (y_true, y_pred, **arguments) -> values, averaged with the sample weights,
    whose keyword arguments are the config's fields but `type` and `name`. None: no implementation
    of its own ("accuracy" resolves to another metric, see resolve_accuracy).

    `labels` is the labels it can be computed on: "ids" (class ids, one rank below the prediction),
    "shaped" (shaped like the prediction: one-hot, binary, multi-label), None (either: class ids are
    compared with every column, as Keras 3 does for ids shaped (n, 1)). `instead` is the metric to
    use for the other kind of labels, for the message refusing it.
    """

    name: str
    config: type[StrictModel] | None = None
    aliases: tuple[str, ...] = ()
    runtime: str | None = ""
    labels: Literal["ids", "shaped"] | None = None
    instead: str | None = None

    def __post_init__(self) -> None:
        if self.runtime is not None:
            object.__setattr__(self, "runtime", check_reference(self.runtime or f"{RUNTIME}:{self.name}"))
        if self.config is not None and not set(self.names) <= set(literal_names(self.config)):
            raise ValueError(f"metric {self.name!r}: {self.config.__name__}.type does not accept {self.names}")

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


#: Every metric. The order of the classes' first entries is the schema's.
METRICS: dict[str, MetricKind] = {kind.name: kind for kind in (
    MetricKind("accuracy", aliases=("acc",), runtime=None),
    MetricKind("categorical_accuracy", labels="shaped", instead="sparse_categorical_accuracy"),
    MetricKind("sparse_categorical_accuracy", labels="ids", instead="categorical_accuracy"),
    MetricKind("mean_squared_error", aliases=("mse",)),
    MetricKind("mean_absolute_error", aliases=("mae",)),
    MetricKind("binary_accuracy", BinaryAccuracy),
    MetricKind("top_k_categorical_accuracy", TopKAccuracy, labels="shaped", instead="sparse_top_k_categorical_accuracy"),
    MetricKind("sparse_top_k_categorical_accuracy", TopKAccuracy, labels="ids", instead="top_k_categorical_accuracy"),
    MetricKind("precision", PrecisionRecall, runtime=f"{RUNTIME}:PrecisionRecallMetric", labels="shaped"),
    MetricKind("recall", PrecisionRecall, runtime=f"{RUNTIME}:PrecisionRecallMetric", labels="shaped"),
    MetricKind("auc", AUC, runtime=f"{RUNTIME}:AUCMetric", labels="shaped"),
)}

#: Every name a spec may use, aliases included.
METRIC_NAMES: tuple[str, ...] = tuple(name for kind in METRICS.values() for name in kind.names)

METRIC_ALIASES: dict[str, str] = {alias: kind.name for kind in METRICS.values() for alias in kind.aliases}

_PLAIN_NAMES = tuple(name for kind in METRICS.values() if kind.config is None for name in kind.names)


class PlainMetric(StrictModel):
    """A metric without arguments, e.g. `{type: mse, name: error}`."""

    type: Literal[_PLAIN_NAMES]  # type: ignore[valid-type]  # the names of the table's metrics without a config
    name: Identifier | None = None


_METRIC_CONFIGS: dict[str, type[StrictModel]] = {
    name: kind.config or PlainMetric for kind in METRICS.values() for name in kind.names
}

if TYPE_CHECKING:
    MetricName = str
    MetricConfig = PlainMetric | BinaryAccuracy | TopKAccuracy | PrecisionRecall | AUC
    MetricSpec = MetricName | MetricConfig
else:
    MetricName = Literal[METRIC_NAMES]
    #: The config classes, in the table's order.
    MetricConfig = Union[tuple(dict.fromkeys(_METRIC_CONFIGS.values()))]  # noqa: UP007 (a runtime-built union)
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
    if LABEL_KINDS.get(LOSS_ALIASES.get(loss_name or "", loss_name or "")) == "sparse":
        return "sparse_categorical_accuracy"
    return "categorical_accuracy"



#: The two kinds of labels a metric may need, in words, and the losses that take them.
_LABELS = {"ids": ("class ids", "sparse_categorical_crossentropy"),
           "shaped": ("labels shaped like the output (one-hot, binary or multi-label)", "categorical_crossentropy or binary_crossentropy")}


def label_problem(config: MetricConfig, loss_name: str | None, output: str, shape: Sequence[Dimension]) -> str | None:
    """Why metric `config` cannot be computed on the labels that output `output` (of `shape`) is trained on
    with loss `loss_name`; None when it can (or without a loss: no labels).

    Keras 3 ends such a fit with a shape error, or reports a meaningless value (categorical_accuracy on
    class ids); the spec shows it, so it is refused at validation:

        metrics: [categorical_accuracy]   # with loss: sparse_categorical_crossentropy -> use sparse_categorical_accuracy
    """
    kind = METRICS.get(config.type)
    loss = LOSS_ALIASES.get(loss_name or "", loss_name)
    given = "ids" if LABEL_KINDS.get(loss or "") == "sparse" else "shaped"
    if kind is None or kind.labels in (None, given) or loss is None:
        return None
    needed, takes = _LABELS[kind.labels]
    picks = " (or accuracy, which picks it)" if kind.instead in get_args(AccuracyType) else ""
    instead = f"use {kind.instead}{picks}" if kind.instead else f"train this output with {takes} to use it"
    shown = ", ".join("None" if d is None else str(d) for d in shape)
    return (f"metric '{config.name}' needs {needed}, but output '{output}' ({shown}) is trained with {loss}, "
            f"which takes {_LABELS[given][0]}: {instead}")
