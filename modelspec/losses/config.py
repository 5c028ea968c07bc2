"""Loss specs, as Keras spells them, and the table that registers every loss. The torch side is modelspec.losses.runtime.

A loss is written either as a Keras identifier or as a mapping with `type` and Keras's arguments:

    loss: sparse_categorical_crossentropy
    loss: {type: categorical_crossentropy, from_logits: true, label_smoothing: 0.1}
    loss: {type: huber, delta: 1.0}

`LOSSES` is the one registration point: each `LossKind` entry gives a loss's canonical name, its
aliases, its config class (PlainLoss when it has no arguments), the labels it takes, the activation
whose logits it can take instead, and its torch implementation as a "module:function" reference.
The spec's schema (`LossSpec`, `PlainLoss.type`), `LOSS_NAMES`, `LOSS_ALIASES`, `LABEL_KINDS` and
`logits_variant` all come from it.

No torch here: this module is used while validating specs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter

from modelspec.config import StrictModel
from modelspec.implementation import check_reference
from modelspec.identifiers import literal_names, name_or_config

#: Where a loss's per-sample function lives unless its entry names another "module:function".
RUNTIME = "modelspec.losses.runtime"

LabelKind = Literal["categorical", "sparse", "binary"]

UnitInterval = Annotated[float, Field(ge=0.0, le=1.0)]


class CategoricalCrossentropy(StrictModel):
    """`{type: categorical_crossentropy, from_logits: false, label_smoothing: 0.0}`; one-hot labels."""

    type: Literal["categorical_crossentropy"]
    from_logits: bool = False
    label_smoothing: UnitInterval = 0.0


class SparseCategoricalCrossentropy(StrictModel):
    """`{type: sparse_categorical_crossentropy, from_logits: false, ignore_class: null}`; integer labels.

    Samples whose label is `ignore_class` are masked out: the mean runs over the others.
    """

    type: Literal["sparse_categorical_crossentropy"]
    from_logits: bool = False
    ignore_class: int | None = None


class BinaryCrossentropy(StrictModel):
    """`{type: binary_crossentropy, from_logits: false, label_smoothing: 0.0}`; labels squeezed to 0.5."""

    type: Literal["binary_crossentropy"]
    from_logits: bool = False
    label_smoothing: UnitInterval = 0.0


class Huber(StrictModel):
    """`{type: huber, delta: 1.0}`: quadratic below `delta`, linear above."""

    type: Literal["huber"]
    delta: Annotated[float, Field(gt=0.0)] = 1.0


@dataclass(frozen=True)
class LossKind:
    """One loss, everything modelspec knows about it.

    `config` is the class of its arguments (None: none, the shared PlainLoss); `labels` the labels it
    takes (for the data checks and class weights); `logits_of` the output activation whose logits it
    can take instead (its config has `from_logits`); `runtime` its per-sample torch function
    (y_true, y_pred, config) -> values without the last axis, by default `RUNTIME:<name>`.
    """

    name: str
    config: type[StrictModel] | None = None
    aliases: tuple[str, ...] = ()
    labels: LabelKind | None = None
    logits_of: str | None = None
    runtime: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "runtime", check_reference(self.runtime or f"{RUNTIME}:{self.name}"))
        if self.config is not None and not set(self.names) <= set(literal_names(self.config)):
            raise ValueError(f"loss {self.name!r}: {self.config.__name__}.type does not accept {self.names}")
        if self.logits_of is not None and (self.config is None or "from_logits" not in self.config.model_fields):
            raise ValueError(f"loss {self.name!r}: logits_of needs a config with from_logits")

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


#: Every loss, in the order the schema and the error messages list them.
LOSSES: dict[str, LossKind] = {kind.name: kind for kind in (
    LossKind("categorical_crossentropy", CategoricalCrossentropy, labels="categorical", logits_of="softmax"),
    LossKind("sparse_categorical_crossentropy", SparseCategoricalCrossentropy, labels="sparse", logits_of="softmax"),
    LossKind("binary_crossentropy", BinaryCrossentropy, labels="binary", logits_of="sigmoid"),
    LossKind("huber", Huber),
    LossKind("mean_squared_error", aliases=("mse",)),
    LossKind("mean_absolute_error", aliases=("mae",)),
    LossKind("mean_absolute_percentage_error", aliases=("mape",)),
    LossKind("mean_squared_logarithmic_error", aliases=("msle",)),
    LossKind("kl_divergence", aliases=("kld", "kullback_leibler_divergence")),
    LossKind("poisson"),
    LossKind("hinge"),
    LossKind("squared_hinge"),
    LossKind("categorical_hinge"),
    LossKind("cosine_similarity"),
    LossKind("log_cosh", aliases=("logcosh",)),
)}

#: Every name a spec may use, aliases included.
LOSS_NAMES: tuple[str, ...] = tuple(name for kind in LOSSES.values() for name in kind.names)

#: Keras's legacy short names and the loss each stands for.
LOSS_ALIASES: dict[str, str] = {alias: kind.name for kind in LOSSES.values() for alias in kind.aliases}

#: Loss type -> the kind of labels it takes (for data checks and class weights).
LABEL_KINDS: dict[str, LabelKind] = {kind.name: kind.labels for kind in LOSSES.values() if kind.labels is not None}

_PLAIN_NAMES = tuple(name for kind in LOSSES.values() if kind.config is None for name in kind.names)


class PlainLoss(StrictModel):
    """A loss without arguments, e.g. `{type: mse}`."""

    type: Literal[_PLAIN_NAMES]  # type: ignore[valid-type]  # the names of the table's losses without a config


_LOSS_CONFIGS: dict[str, type[StrictModel]] = {
    name: kind.config or PlainLoss for kind in LOSSES.values() for name in kind.names
}

if TYPE_CHECKING:
    LossName = str
    LossConfig = CategoricalCrossentropy | SparseCategoricalCrossentropy | BinaryCrossentropy | Huber | PlainLoss
    LossSpec = LossName | LossConfig
else:
    LossName = Literal[LOSS_NAMES]
    #: The config classes, in the table's order.
    LossConfig = Union[tuple(dict.fromkeys(_LOSS_CONFIGS.values()))]  # noqa: UP007 (a runtime-built union)
    #: The field type of a loss in a spec: `mse` or `{type: huber, delta: 2.0}`.
    LossSpec = name_or_config("loss", _LOSS_CONFIGS)


@functools.cache
def _config_adapter() -> TypeAdapter[Any]:
    """Built on first use: building pydantic validators at import slows every command."""
    return TypeAdapter(Annotated[LossConfig, Field(discriminator="type")])


def loss_config(spec: LossSpec | dict[str, Any]) -> LossConfig:
    """The config of a loss spec, aliases resolved: `mse` -> `PlainLoss(type='mean_squared_error')`.

    Takes a validated spec value, or a raw name or mapping (validated here). A known name needs no
    validator: its config is the class's defaults (building the union's validator costs ~20 ms).
    """
    if isinstance(spec, str) and spec in _LOSS_CONFIGS:
        spec = _LOSS_CONFIGS[spec].model_construct(type=spec)
    elif isinstance(spec, (str, dict)):
        spec = _config_adapter().validate_python({"type": spec} if isinstance(spec, str) else spec)
    canonical = LOSS_ALIASES.get(spec.type, spec.type)
    return spec if canonical == spec.type else spec.model_copy(update={"type": canonical})


def loss_kind(spec: LossSpec | dict[str, Any]) -> LossKind:
    """The registered entry of a loss spec, config or name (aliases resolved)."""
    return LOSSES[loss_config(spec).type]


def logits_variant(spec: LossSpec | dict[str, Any]) -> LossConfig | None:
    """The same cross-entropy computed from logits, for a loss on probabilities; else None.

    The training loop uses it when the activation its entry names (`logits_of`: a softmax, a sigmoid)
    makes the output that feeds the loss: the loss then takes the pre-activation logits, which is
    stabler and has better gradients. The values agree with the probability form except where a
    probability saturates Keras's [1e-7, 1 - 1e-7] clip (a loss above about 16.1 per element): there
    the logits form gives the true, larger value.
    """
    config = loss_config(spec)
    if LOSSES[config.type].logits_of is None or config.from_logits:
        return None
    return config.model_copy(update={"from_logits": True})
