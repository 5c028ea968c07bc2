"""Keras's learning-rate schedules as spec configs (no torch here): a schedule is a function of the iteration count.

    learning_rate: {type: ExponentialDecay, initial_learning_rate: 0.1, decay_steps: 1000, decay_rate: 0.96}
    learning_rate: {type: CosineDecay, initial_learning_rate: 0.001, decay_steps: 10000}

A schedule is one class here, registered by `@register_schedule`: its `type` literal is its name, its
fields its schema, and `value(step)` (plain Python) is what the torch optimizer calls, so a schedule
has no torch side. `LearningRate` (a positive float or any registered schedule) is the type of an
optimizer's `learning_rate`.
"""

from __future__ import annotations

import bisect
import math
from typing import Annotated, Any, Literal, TypeVar, Union

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from modelspec.config import NonNegativeInt, PositiveInt, StrictModel
from modelspec.errors import did_you_mean, format_choices

PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


# ----- learning-rate schedules -------------------------------------------------------------------
class LearningRateSchedule(StrictModel):
    """A learning rate as a function of the optimizer's iteration count (0 at the first update)."""

    type: str

    def value(self, step: int) -> float:
        """The learning rate used by the update made after `step` earlier updates."""
        raise NotImplementedError


SCHEDULES: dict[str, type[LearningRateSchedule]] = {}
S = TypeVar("S", bound=type[LearningRateSchedule])


def register_schedule(cls: S) -> S:
    """Class decorator: add a schedule under the one name of its `type` literal."""
    (name,) = cls.model_fields["type"].annotation.__args__
    SCHEDULES[name] = cls
    return cls


@register_schedule
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


@register_schedule
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


@register_schedule
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
