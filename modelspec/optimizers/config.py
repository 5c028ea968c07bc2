"""Keras optimizers as spec configs, with Keras 3's argument names and defaults (no torch here).

An optimizer is a Keras identifier or a mapping with a `type` and the optimizer's arguments:

    optimizer: adam
    optimizer: {type: sgd, learning_rate: 0.01, momentum: 0.9, nesterov: true}
    optimizer:
      type: AdamW
      learning_rate: {type: CosineDecay, initial_learning_rate: 0.001, decay_steps: 10000}
      global_clipnorm: 1.0

Identifiers are Keras's lowercase names or class names (`adam` or `Adam`, `rmsprop` or `RMSprop`);
both validate to the lowercase name. Every optimizer takes Keras's common arguments `weight_decay`
(decoupled: w -= w * weight_decay * lr before the update) and one of `clipnorm` (per variable),
`clipvalue` (elementwise) or `global_clipnorm` (over all gradients). Learning-rate schedules are in
modelspec.optimizers.schedules.

An optimizer is one class here, registered by `@register_optimizer("module:Class")`: its `type`
literal gives its names (the lowercase one first), its fields its schema, and the reference names
its torch implementation (a modelspec.optimizers.runtime.KerasOptimizer subclass), which
modelspec.optimizers.runtime.build_optimizer imports when it builds one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union

from pydantic import (
    BeforeValidator,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from modelspec.config import StrictModel
from modelspec.errors import Problem, SpecError, did_you_mean, format_choices
from modelspec.implementation import check_reference
from modelspec.optimizers.schedules import LearningRate, NonNegativeFloat, PositiveFloat

#: beta_1, beta_2, rho: decay rates of moving averages, in [0, 1).
DecayRate = Annotated[float, Field(ge=0.0, lt=1.0)]
#: SGD and RMSprop momentum, in [0, 1] as Keras checks.
Momentum = Annotated[float, Field(ge=0.0, le=1.0)]


class BaseOptimizer(StrictModel):
    """Arguments every Keras optimizer takes. Subclasses set `type` (lowercase name first, then the class name)."""

    #: "module:Class" of the torch implementation, set by register_optimizer.
    implementation: ClassVar[str]

    type: str
    learning_rate: LearningRate = Field(0.001, description="A positive float or a schedule {type: ExponentialDecay, ...}.")
    weight_decay: NonNegativeFloat | None = Field(None, description="Decoupled weight decay: w -= w * weight_decay * lr before each update.")
    clipnorm: PositiveFloat | None = Field(None, description="Clip each gradient to this L2 norm.")
    clipvalue: PositiveFloat | None = Field(None, description="Clip each gradient element to [-clipvalue, clipvalue].")
    global_clipnorm: PositiveFloat | None = Field(None, description="Clip all gradients together to this global L2 norm.")

    @field_validator("type")
    @classmethod
    def _canonical_name(cls, value: str) -> str:
        return OPTIMIZER_IDENTIFIERS[value]

    @model_validator(mode="after")
    def _one_clip(self) -> BaseOptimizer:
        if sum(v is not None for v in (self.clipnorm, self.clipvalue, self.global_clipnorm)) > 1:
            raise ValueError(
                "only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. Received: "
                f"clipnorm={self.clipnorm}, clipvalue={self.clipvalue}, global_clipnorm={self.global_clipnorm}"
            )
        return self


OPTIMIZERS: dict[str, type[BaseOptimizer]] = {}
#: Every accepted identifier ("adam", "Adam", ...) -> the canonical lowercase name.
OPTIMIZER_IDENTIFIERS: dict[str, str] = {}
O = TypeVar("O", bound=type[BaseOptimizer])


def register_optimizer(implementation: str) -> Callable[[O], O]:
    """Class decorator: add an optimizer under every identifier of its `type` literal (the first is
    canonical), implemented by `implementation`, "module:Class" of a KerasOptimizer subclass."""
    check_reference(implementation)

    def register(cls: O) -> O:
        names = cls.model_fields["type"].annotation.__args__
        cls.implementation = implementation
        OPTIMIZERS[names[0]] = cls
        OPTIMIZER_IDENTIFIERS.update({name: names[0] for name in names})
        return cls

    return register


@register_optimizer("modelspec.optimizers.runtime:KerasSGD")
class SGD(BaseOptimizer):
    """Gradient descent with (Nesterov) momentum in Keras's velocity form.

        optimizer: {type: sgd, learning_rate: 0.01, momentum: 0.9, nesterov: true}
    """

    type: Literal["sgd", "SGD"]
    learning_rate: LearningRate = 0.01
    momentum: Momentum = 0.0
    nesterov: bool = False


@register_optimizer("modelspec.optimizers.runtime:KerasRMSprop")
class RMSprop(BaseOptimizer):
    """RMSprop, epsilon inside the square root; optionally centered and with momentum.

        optimizer: {type: rmsprop, learning_rate: 0.001, rho: 0.9, momentum: 0.0, centered: false}
    """

    type: Literal["rmsprop", "RMSprop"]
    rho: DecayRate = 0.9
    momentum: Momentum = 0.0
    epsilon: NonNegativeFloat = 1e-7
    centered: bool = False


@register_optimizer("modelspec.optimizers.runtime:KerasAdam")
class Adam(BaseOptimizer):
    """Adam with Keras's "epsilon hat" (bias correction folded into the step size); optionally AMSGrad.

        optimizer: {type: adam, learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, amsgrad: true}
    """

    type: Literal["adam", "Adam"]
    beta_1: DecayRate = 0.9
    beta_2: DecayRate = 0.999
    epsilon: NonNegativeFloat = 1e-7
    amsgrad: bool = False


@register_optimizer("modelspec.optimizers.runtime:KerasAdamW")
class AdamW(Adam):
    """Adam with decoupled weight decay (required, default 0.004).

        optimizer: {type: adamw, learning_rate: 0.001, weight_decay: 0.004}
    """

    type: Literal["adamw", "AdamW"]
    weight_decay: NonNegativeFloat = 0.004


@register_optimizer("modelspec.optimizers.runtime:KerasAdagrad")
class Adagrad(BaseOptimizer):
    """Adagrad: an accumulator of squared gradients, starting at initial_accumulator_value.

        optimizer: {type: adagrad, learning_rate: 0.001, initial_accumulator_value: 0.1}
    """

    type: Literal["adagrad", "Adagrad"]
    initial_accumulator_value: NonNegativeFloat = 0.1
    epsilon: NonNegativeFloat = 1e-7


@register_optimizer("modelspec.optimizers.runtime:KerasAdadelta")
class Adadelta(BaseOptimizer):
    """Adadelta with a learning rate (1.0 gives the paper's form).

        optimizer: {type: adadelta, learning_rate: 1.0, rho: 0.95}
    """

    type: Literal["adadelta", "Adadelta"]
    rho: DecayRate = 0.95
    epsilon: NonNegativeFloat = 1e-7


@register_optimizer("modelspec.optimizers.runtime:KerasAdamax")
class Adamax(BaseOptimizer):
    """Adamax: Adam with the infinity norm.

        optimizer: {type: adamax, learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999}
    """

    type: Literal["adamax", "Adamax"]
    beta_1: DecayRate = 0.9
    beta_2: DecayRate = 0.999
    epsilon: NonNegativeFloat = 1e-7


@register_optimizer("modelspec.optimizers.runtime:KerasNadam")
class Nadam(BaseOptimizer):
    """Nadam: Adam with Nesterov momentum and Dozat's momentum schedule (0.96 decay).

        optimizer: {type: nadam, learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999}
    """

    type: Literal["nadam", "Nadam"]
    beta_1: DecayRate = 0.9
    beta_2: DecayRate = 0.999
    epsilon: NonNegativeFloat = 1e-7


#: Canonical optimizer names, as they appear after validation.
OPTIMIZER_NAMES: tuple[str, ...] = tuple(OPTIMIZERS)
#: Any accepted identifier, lowercase or class name.
OptimizerName = Literal[tuple(OPTIMIZER_IDENTIFIERS)]  # type: ignore[valid-type]

#: A validated optimizer config, discriminated on `type`.
OptimizerConfig = Annotated[Union[tuple(OPTIMIZERS.values())], Field(discriminator="type")]  # noqa: UP007 (a runtime-built union)


def _optimizer_identifier(value: Any) -> Any:
    """A bare name becomes {type: name}; an unknown name is rejected with the valid ones."""
    if isinstance(value, str):
        _check_optimizer_name(value)
        return {"type": value}
    if isinstance(value, dict):
        if "type" not in value:
            raise PydanticCustomError(
                "missing_optimizer_type",
                "an optimizer mapping needs a 'type': one of {choices}",
                {"choices": format_choices(OPTIMIZER_NAMES)},
            )
        _check_optimizer_name(value["type"])
        return value
    if isinstance(value, BaseOptimizer):
        return value
    raise PydanticCustomError(
        "optimizer_type", "expected an optimizer name (adam, rmsprop, sgd, ...) or a mapping with a 'type', received {received}",
        {"received": repr(value)},
    )


def _check_optimizer_name(name: Any) -> None:
    if isinstance(name, str) and name in OPTIMIZER_IDENTIFIERS:
        return
    hint = did_you_mean(name.lower(), OPTIMIZER_NAMES) if isinstance(name, str) else ""
    raise PydanticCustomError(
        "unknown_optimizer",
        "unknown optimizer {received}{hint}: expected one of {choices} (or its Keras class name, e.g. 'Adam')",
        {"received": repr(name), "hint": hint, "choices": format_choices(OPTIMIZER_NAMES)},
    )


#: The type of a spec's `optimizer` field: a Keras identifier or a config mapping.
OptimizerSpec = Annotated[
    OptimizerConfig,
    BeforeValidator(_optimizer_identifier, json_schema_input_type=Union[OptimizerName, OptimizerConfig]),
]


@functools.cache
def _spec_adapter() -> TypeAdapter[BaseOptimizer]:
    """Built on first use: building pydantic validators at import slows every command."""
    return TypeAdapter(OptimizerSpec)


def optimizer_config(spec: str | dict[str, Any] | BaseOptimizer) -> BaseOptimizer:
    """The config for a Keras identifier (defaults), a mapping, or a config (returned as is).

    Raises SpecError listing every problem, e.g. for an unknown name or a misspelled argument.
    """
    if isinstance(spec, BaseOptimizer):
        return spec
    try:
        return _spec_adapter().validate_python(spec)
    except ValidationError as error:
        raise SpecError(
            Problem(f"optimizer{''.join(f'.{part}' for part in item['loc'])}: {item['msg']}") for item in error.errors()
        ) from None
