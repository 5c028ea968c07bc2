"""Keras optimizers and learning-rate schedules as spec configs, with Keras 3's argument names and defaults.

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
`clipvalue` (elementwise) or `global_clipnorm` (over all gradients).

This module does not import torch: it is used while validating specs. The torch implementations
live in modelspec.training.optimizers; each config class names its own (`torch_class`).
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from modelspec.config import NonNegativeInt, PositiveInt, StrictModel
from modelspec.errors import Problem, SpecError, did_you_mean, format_choices

if TYPE_CHECKING:  # pragma: no cover
    import torch

PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
#: beta_1, beta_2, rho: decay rates of moving averages, in [0, 1).
DecayRate = Annotated[float, Field(ge=0.0, lt=1.0)]
#: SGD and RMSprop momentum, in [0, 1] as Keras checks.
Momentum = Annotated[float, Field(ge=0.0, le=1.0)]


# ----- learning-rate schedules -------------------------------------------------------------------
class LearningRateSchedule(StrictModel):
    """A learning rate as a function of the optimizer's iteration count (0 at the first update)."""

    type: str

    def value(self, step: int) -> float:
        """The learning rate used by the update made after `step` earlier updates."""
        raise NotImplementedError


SCHEDULES: dict[str, type[LearningRateSchedule]] = {}
S = TypeVar("S", bound=type[LearningRateSchedule])


def _register_schedule(cls: S) -> S:
    (name,) = cls.model_fields["type"].annotation.__args__
    SCHEDULES[name] = cls
    return cls


@_register_schedule
class ExponentialDecay(LearningRateSchedule):
    """initial_learning_rate * decay_rate ** (step / decay_steps); the exponent is floored when staircase.

        learning_rate: {type: ExponentialDecay, initial_learning_rate: 0.1, decay_steps: 1000, decay_rate: 0.96}
    """

    type: Literal["ExponentialDecay"]
    initial_learning_rate: NonNegativeFloat
    decay_steps: PositiveInt
    decay_rate: PositiveFloat
    staircase: bool = False

    def value(self, step: int) -> float:
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate**exponent


@_register_schedule
class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from initial_learning_rate to warmup_target over warmup_steps, then a cosine
    decay over decay_steps from warmup_target (or initial_learning_rate without warmup) to alpha times it.

        learning_rate: {type: CosineDecay, initial_learning_rate: 0.0, decay_steps: 9000, warmup_target: 0.001, warmup_steps: 1000}
    """

    type: Literal["CosineDecay"]
    initial_learning_rate: NonNegativeFloat
    decay_steps: PositiveInt
    alpha: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    warmup_target: NonNegativeFloat | None = None
    warmup_steps: NonNegativeInt = 0

    def value(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decayed(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * fraction
        return self._decayed(step - self.warmup_steps, self.warmup_target)

    def _decayed(self, step: int, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)


@_register_schedule
class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i],
    values[-1] after the last boundary.

        learning_rate: {type: PiecewiseConstantDecay, boundaries: [1000, 2000], values: [0.1, 0.01, 0.001]}
    """

    type: Literal["PiecewiseConstantDecay"]
    boundaries: Annotated[list[NonNegativeInt], Field(min_length=1)]
    values: list[NonNegativeFloat]

    @model_validator(mode="after")
    def _check_lengths(self) -> PiecewiseConstantDecay:
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError(
                "the length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={self.boundaries} of length {len(self.boundaries)}, and values={self.values} of length {len(self.values)}"
            )
        if any(b >= c for b, c in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"boundaries must be strictly increasing, received {self.boundaries}")
        return self

    def value(self, step: int) -> float:
        return self.values[bisect.bisect_left(self.boundaries, step)]


def _check_schedule_type(value: Any) -> Any:
    """Reject an unknown schedule `type` with the valid names, before the tagged union does."""
    if isinstance(value, dict):
        name = value.get("type")
        if not (isinstance(name, str) and name in SCHEDULES):
            hint = did_you_mean(name, SCHEDULES) if isinstance(name, str) else ""
            raise PydanticCustomError(
                "unknown_schedule",
                "a learning-rate schedule needs a 'type': one of {choices}; received {received}{hint}",
                {"choices": format_choices(SCHEDULES), "received": repr(name), "hint": hint},
            )
    return value


def _learning_rate_tag(value: Any) -> str:
    if isinstance(value, dict):
        return value["type"]
    return value.type if isinstance(value, LearningRateSchedule) else "float"


#: A schedule config, discriminated on `type`.
ScheduleConfig = Annotated[Union[tuple(SCHEDULES.values())], Field(discriminator="type")]  # noqa: UP007 (a runtime-built union)

#: A positive float or a schedule config.
LearningRate = Annotated[
    Union[
        Annotated[PositiveFloat, Tag("float")],
        *(Annotated[cls, Tag(name)] for name, cls in SCHEDULES.items()),
    ],
    Discriminator(_learning_rate_tag),
    BeforeValidator(_check_schedule_type, json_schema_input_type=Union[PositiveFloat, ScheduleConfig]),
]


# ----- optimizers -------------------------------------------------------------------------------
class BaseOptimizer(StrictModel):
    """Arguments every Keras optimizer takes. Subclasses set `type` (lowercase name first, then the class name)."""

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

    def torch_class(self) -> Callable[..., torch.optim.Optimizer]:
        """The torch.optim.Optimizer subclass implementing this optimizer (imported here, lazily)."""
        raise NotImplementedError(f"{type(self).__name__} has no torch implementation")


OPTIMIZERS: dict[str, type[BaseOptimizer]] = {}
#: Every accepted identifier ("adam", "Adam", ...) -> the canonical lowercase name.
OPTIMIZER_IDENTIFIERS: dict[str, str] = {}
O = TypeVar("O", bound=type[BaseOptimizer])


def _register(cls: O) -> O:
    """Class decorator: add an optimizer under every identifier of its `type` literal (the first is canonical)."""
    names = cls.model_fields["type"].annotation.__args__
    OPTIMIZERS[names[0]] = cls
    OPTIMIZER_IDENTIFIERS.update({name: names[0] for name in names})
    return cls


@_register
class SGD(BaseOptimizer):
    """Gradient descent with (Nesterov) momentum in Keras's velocity form.

        optimizer: {type: sgd, learning_rate: 0.01, momentum: 0.9, nesterov: true}
    """

    type: Literal["sgd", "SGD"]
    learning_rate: LearningRate = 0.01
    momentum: Momentum = 0.0
    nesterov: bool = False

    def torch_class(self):
        from modelspec.training.optimizers import KerasSGD

        return KerasSGD


@_register
class RMSprop(BaseOptimizer):
    """RMSprop, epsilon inside the square root; optionally centered and with momentum.

        optimizer: {type: rmsprop, learning_rate: 0.001, rho: 0.9, momentum: 0.0, centered: false}
    """

    type: Literal["rmsprop", "RMSprop"]
    rho: DecayRate = 0.9
    momentum: Momentum = 0.0
    epsilon: NonNegativeFloat = 1e-7
    centered: bool = False

    def torch_class(self):
        from modelspec.training.optimizers import KerasRMSprop

        return KerasRMSprop


@_register
class Adam(BaseOptimizer):
    """Adam with Keras's "epsilon hat" (bias correction folded into the step size); optionally AMSGrad.

        optimizer: {type: adam, learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999, amsgrad: true}
    """

    type: Literal["adam", "Adam"]
    beta_1: DecayRate = 0.9
    beta_2: DecayRate = 0.999
    epsilon: NonNegativeFloat = 1e-7
    amsgrad: bool = False

    def torch_class(self):
        from modelspec.training.optimizers import KerasAdam

        return KerasAdam


@_register
class AdamW(Adam):
    """Adam with decoupled weight decay (required, default 0.004).

        optimizer: {type: adamw, learning_rate: 0.001, weight_decay: 0.004}
    """

    type: Literal["adamw", "AdamW"]
    weight_decay: NonNegativeFloat = 0.004

    def torch_class(self):
        from modelspec.training.optimizers import KerasAdamW

        return KerasAdamW


@_register
class Adagrad(BaseOptimizer):
    """Adagrad: an accumulator of squared gradients, starting at initial_accumulator_value.

        optimizer: {type: adagrad, learning_rate: 0.001, initial_accumulator_value: 0.1}
    """

    type: Literal["adagrad", "Adagrad"]
    initial_accumulator_value: NonNegativeFloat = 0.1
    epsilon: NonNegativeFloat = 1e-7

    def torch_class(self):
        from modelspec.training.optimizers import KerasAdagrad

        return KerasAdagrad


@_register
class Adadelta(BaseOptimizer):
    """Adadelta with a learning rate (1.0 gives the paper's form).

        optimizer: {type: adadelta, learning_rate: 1.0, rho: 0.95}
    """

    type: Literal["adadelta", "Adadelta"]
    rho: DecayRate = 0.95
    epsilon: NonNegativeFloat = 1e-7

    def torch_class(self):
        from modelspec.training.optimizers import KerasAdadelta

        return KerasAdadelta


@_register
class Adamax(BaseOptimizer):
    """Adamax: Adam with the infinity norm.

        optimizer: {type: adamax, learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999}
    """

    type: Literal["adamax", "Adamax"]
    beta_1: DecayRate = 0.9
    beta_2: DecayRate = 0.999
    epsilon: NonNegativeFloat = 1e-7

    def torch_class(self):
        from modelspec.training.optimizers import KerasAdamax

        return KerasAdamax


@_register
class Nadam(BaseOptimizer):
    """Nadam: Adam with Nesterov momentum and Dozat's momentum schedule (0.96 decay).

        optimizer: {type: nadam, learning_rate: 0.001, beta_1: 0.9, beta_2: 0.999}
    """

    type: Literal["nadam", "Nadam"]
    beta_1: DecayRate = 0.9
    beta_2: DecayRate = 0.999
    epsilon: NonNegativeFloat = 1e-7

    def torch_class(self):
        from modelspec.training.optimizers import KerasNadam

        return KerasNadam


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
