"""Loss specs, as Keras spells them: a name or a config dict. The torch side is modelspec.training.losses.

A loss is written either as a Keras identifier or as a mapping with `type` and Keras's arguments:

    loss: sparse_categorical_crossentropy
    loss: {type: categorical_crossentropy, from_logits: true, label_smoothing: 0.1}
    loss: {type: huber, delta: 1.0}

No torch here: this module is used while validating specs.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, BeforeValidator, Discriminator, Field, Tag, TypeAdapter
from pydantic_core import PydanticCustomError

from modelspec.config import StrictModel
from modelspec.errors import did_you_mean, format_choices

LossName = Literal[
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
    "mean_squared_error", "mse", "mean_absolute_error", "mae",
    "mean_absolute_percentage_error", "mape", "mean_squared_logarithmic_error", "msle",
    "huber", "kl_divergence", "kld", "kullback_leibler_divergence", "poisson",
    "hinge", "squared_hinge", "categorical_hinge", "cosine_similarity", "log_cosh", "logcosh",
]

#: Every name a spec may use, aliases included.
LOSS_NAMES: tuple[str, ...] = get_args(LossName)

#: Keras's legacy short names and the loss each stands for.
LOSS_ALIASES: dict[str, str] = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "kld": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence",
    "logcosh": "log_cosh",
}

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


class PlainLoss(StrictModel):
    """A loss without arguments, e.g. `{type: mse}`."""

    type: Literal[
        "mean_squared_error", "mse", "mean_absolute_error", "mae",
        "mean_absolute_percentage_error", "mape", "mean_squared_logarithmic_error", "msle",
        "kl_divergence", "kld", "kullback_leibler_divergence", "poisson",
        "hinge", "squared_hinge", "categorical_hinge", "cosine_similarity", "log_cosh", "logcosh",
    ]


LossConfig = CategoricalCrossentropy | SparseCategoricalCrossentropy | BinaryCrossentropy | Huber | PlainLoss

_LOSS_CONFIGS: dict[str, type[StrictModel]] = {
    name: cls for cls in get_args(LossConfig) for name in get_args(cls.model_fields["type"].annotation)
}


def _check_known(kind: str, configs: dict[str, type[StrictModel]], value: Any) -> Any:
    """`value` unchanged if it names one of `configs` (as a string or a mapping's `type`); else a did-you-mean error."""
    names = tuple(configs)
    name = value.get("type") if isinstance(value, dict) else value
    if isinstance(value, dict) and "type" not in value:
        raise PydanticCustomError(
            f"{kind}_type_missing",
            "A {kind} given as a mapping needs a 'type' key, one of: {choices}",
            {"kind": kind, "choices": format_choices(names, limit=len(names))},
        )
    if isinstance(name, str) and name not in configs:
        raise PydanticCustomError(
            f"unknown_{kind}",
            "Unknown {kind} '{received}'{hint}; expected one of: {choices}",
            {"kind": kind, "received": name, "hint": did_you_mean(name, names),
             "choices": format_choices(names, limit=len(names))},
        )
    return value


def _name_or_config_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict):
        return value.get("type")
    return getattr(value, "type", None) if isinstance(value, BaseModel) else None


def name_or_config(kind: str, configs: dict[str, type[StrictModel]]) -> Any:
    """The pydantic type of a `kind` written as a name or as a config mapping keyed by `type`.

    Names stay strings; mappings validate against the config class of their `type`, and their
    errors are located like a discriminated union's (`('loss', 'huber', 'delt')`). Unknown names
    get a did-you-mean. (Module-level functions, not closures: the schema can be pickled, see schema_cache.)
    """
    members = [Annotated[Literal[tuple(configs)], Tag("name")]]  # type: ignore[valid-type]
    members += [Annotated[cls, Tag(name)] for name, cls in configs.items()]
    return Annotated[
        Union[tuple(members)],  # type: ignore[valid-type]  # noqa: UP007 (a runtime-built union)
        Discriminator(
            _name_or_config_tag,
            custom_error_type=f"{kind}_type",
            custom_error_message=f"Expected a {kind} name or a mapping with a 'type' key",
        ),
        BeforeValidator(functools.partial(_check_known, kind, configs)),
    ]


if TYPE_CHECKING:
    LossSpec = LossName | LossConfig
else:
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
