"""Callback configs with Keras's names, arguments and defaults (the torch-side behaviour is in modelspec.training.callbacks).

    fit:
      callbacks:
        - {type: EarlyStopping, monitor: val_loss, patience: 3, restore_best_weights: true}
        - {type: ModelCheckpoint, save_best_only: true, monitor: val_accuracy}
        - {type: ReduceLROnPlateau, factor: 0.5, patience: 2}
        - {type: LearningRateScheduler, schedule: {type: exponential, decay_rate: 0.9}}
        - {type: CSVLogger, filename: log.csv}
        - TerminateOnNaN
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from modelspec.config import NonNegativeInt, PositiveInt, StrictModel

Mode = Literal["auto", "min", "max"]


class EarlyStopping(StrictModel):
    """Stop training when a monitored metric has stopped improving."""

    type: Literal["EarlyStopping"]
    monitor: str = "val_loss"
    min_delta: float = 0.0
    patience: NonNegativeInt = 0
    mode: Mode = "auto"
    baseline: float | None = None
    restore_best_weights: bool = False
    start_from_epoch: NonNegativeInt = 0


class ModelCheckpoint(StrictModel):
    """Save the weights after each epoch into the run directory (`filepath` relative to it)."""

    type: Literal["ModelCheckpoint"]
    filepath: str = Field("best.safetensors", description="File name inside the run directory; may use {epoch}.")
    monitor: str = "val_loss"
    save_best_only: bool = False
    mode: Mode = "auto"
    initial_value_threshold: float | None = None


class ReduceLROnPlateau(StrictModel):
    """Multiply the learning rate by `factor` when the monitored metric stops improving."""

    type: Literal["ReduceLROnPlateau"]
    monitor: str = "val_loss"
    factor: float = Field(0.1, gt=0.0, lt=1.0)
    patience: NonNegativeInt = 10
    mode: Mode = "auto"
    min_delta: float = 1e-4
    cooldown: NonNegativeInt = 0
    min_lr: float = 0.0


class ExponentialEpochSchedule(StrictModel):
    """lr(epoch) = initial * decay_rate ** epoch (initial: the optimizer's learning rate)."""

    type: Literal["exponential"]
    decay_rate: float = Field(gt=0.0)


class StepEpochSchedule(StrictModel):
    """lr(epoch) = initial * drop ** floor(epoch / epochs_drop)."""

    type: Literal["step"]
    drop: float = Field(0.5, gt=0.0)
    epochs_drop: PositiveInt = 10


class CosineEpochSchedule(StrictModel):
    """lr(epoch) = initial * (alpha + (1 - alpha) * 0.5 * (1 + cos(pi * min(epoch, epochs) / epochs)))."""

    type: Literal["cosine"]
    epochs: PositiveInt
    alpha: float = 0.0


class PiecewiseEpochSchedule(StrictModel):
    """lr = values[i] for boundaries[i-1] <= epoch < boundaries[i]."""

    type: Literal["piecewise"]
    boundaries: list[NonNegativeInt]
    values: list[float]

    @model_validator(mode="after")
    def _lengths(self) -> "PiecewiseEpochSchedule":
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError(f"values needs one more entry than boundaries: received {len(self.values)} values for {len(self.boundaries)} boundaries")
        return self


EpochSchedule = Annotated[
    Union[ExponentialEpochSchedule, StepEpochSchedule, CosineEpochSchedule, PiecewiseEpochSchedule], Field(discriminator="type")
]


class LearningRateScheduler(StrictModel):
    """Set the learning rate at the start of each epoch from a named schedule (Keras takes a function; a spec names one)."""

    type: Literal["LearningRateScheduler"]
    schedule: EpochSchedule


class CSVLogger(StrictModel):
    """Also stream the per-epoch history to `filename` inside the run directory (history.csv is always written)."""

    type: Literal["CSVLogger"]
    filename: str = "log.csv"
    separator: str = ","
    append: bool = False


class TerminateOnNaN(StrictModel):
    """Stop when the loss becomes NaN or infinite, keeping the last good weights (on by default)."""

    type: Literal["TerminateOnNaN"]


CALLBACKS = {cls.model_fields["type"].annotation.__args__[0]: cls for cls in (
    EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN,
)}

CallbackConfig = Annotated[Union[tuple(CALLBACKS.values())], Field(discriminator="type")]


def _callback_from_name(value: object) -> object:
    return {"type": value} if isinstance(value, str) else value


#: A callback entry: a config mapping, or a bare name for one with no arguments.
CallbackSpec = Annotated[
    CallbackConfig,
    BeforeValidator(_callback_from_name, json_schema_input_type=Literal[tuple(CALLBACKS)] | CallbackConfig),
]
