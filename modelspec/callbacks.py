"""Callback configs with Keras's names, arguments and defaults (the torch-side behaviour is in modelspec.training.callbacks).

    fit:
      callbacks:
        - {type: EarlyStopping, monitor: val_loss, patience: 3, restore_best_weights: true}
        - {type: ModelCheckpoint, save_best_only: true, monitor: val_accuracy}
        - {type: ReduceLROnPlateau, factor: 0.5, patience: 2}
        - {type: LearningRateScheduler, schedule: {type: exponential, decay_rate: 0.9}}
        - {type: CSVLogger, filename: log.csv}
        - TerminateOnNaN
        - {type: TensorBoard, histogram_freq: 1}      # pip install 'modelspec[tensorboard]'
"""

from __future__ import annotations

import posixpath
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, ValidatorFunctionWrapHandler, field_validator, model_validator

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
    def _lengths(self) -> PiecewiseEpochSchedule:
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError(f"values needs one more entry than boundaries: received {len(self.values)} values for {len(self.boundaries)} boundaries")
        return self


EpochSchedule = Annotated[
    ExponentialEpochSchedule | StepEpochSchedule | CosineEpochSchedule | PiecewiseEpochSchedule, Field(discriminator="type")
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


class TensorBoard(StrictModel):
    """Write TensorBoard event files under `log_dir` in the run directory (needs `pip install 'modelspec[tensorboard]'`).

    Keras's arguments and defaults. write_images, profile_batch, embeddings_freq and embeddings_metadata are accepted
    only at their defaults: weight images, the profiler and the embedding projector are not written, and asking
    for them is an error rather than a silent no-op.
    """

    type: Literal["TensorBoard"]
    log_dir: str = Field("logs", description="Directory inside the run directory; event files go to its train/ and validation/.")
    histogram_freq: NonNegativeInt = Field(0, description="Weight histograms every N epochs (0: none).")
    write_graph: bool = Field(True, description="Write the model graph, traced on one training batch.")
    write_images: bool = Field(False, description="Not supported: only false.")
    write_steps_per_second: bool = Field(False, description="Also log the training steps per second (epoch, and batch with update_freq).")
    update_freq: Literal["epoch", "batch"] | PositiveInt = Field(
        "epoch", description="'epoch': scalars at each epoch end; N: also batch_* scalars every N batches ('batch': every batch)."
    )
    profile_batch: int = Field(0, description="Not supported: only 0 (profiling is off).")
    embeddings_freq: NonNegativeInt = Field(0, description="Not supported: only 0.")
    embeddings_metadata: str | dict[str, str] | None = Field(None, description="Not supported: only null.")

    @field_validator("log_dir")
    @classmethod
    def _inside_the_run_directory(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a directory inside the run directory, e.g. logs")
        if PurePosixPath(value).is_absolute() or PureWindowsPath(value).anchor:
            raise ValueError(f"must stay inside the run directory (it is relative to it): '{value}' is an absolute path")
        normal = posixpath.normpath(value.replace("\\", "/"))
        if normal == ".." or normal.startswith("../"):
            raise ValueError(f"must stay inside the run directory (it is relative to it): '{value}' leads out of it through '..'")
        return value

    @field_validator("update_freq", mode="wrap")
    @classmethod
    def _one_message(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:  # one message instead of one per member of the union
            shown = {True: "true", False: "false", None: "null"}[value] if value is None or isinstance(value, bool) else repr(value)
            raise ValueError(f"expected 'epoch', 'batch' or a number of batches >= 1, received {shown}") from None

    @field_validator("write_images", "profile_batch", "embeddings_freq", "embeddings_metadata", mode="wrap")
    @classmethod
    def _not_supported(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        if value != cls.model_fields[info.field_name].default:
            raise ValueError(_TENSORBOARD_UNSUPPORTED[info.field_name])
        return handler(value)


_TENSORBOARD_UNSUPPORTED = {
    "write_images": "not supported (weights are not drawn as images; histogram_freq writes their histograms): "
                    "remove it or set it to false",
    "profile_batch": "not supported: the profiler is not available in modelspec's PyTorch training "
                     "(Keras's torch backend refuses it too): remove it or set it to 0",
    "embeddings_freq": "not supported (the embedding projector reads TensorFlow checkpoints): remove it or set it to 0",
    "embeddings_metadata": "not supported (the embedding projector is not written): remove it",
}


CALLBACKS = {cls.model_fields["type"].annotation.__args__[0]: cls for cls in (
    EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN, TensorBoard,
)}

CallbackConfig = Annotated[Union[tuple(CALLBACKS.values())], Field(discriminator="type")]  # noqa: UP007 (a runtime-built union)


def _callback_from_name(value: object) -> object:
    return {"type": value} if isinstance(value, str) else value


#: A callback entry: a config mapping, or a bare name for one with no arguments.
CallbackSpec = Annotated[
    CallbackConfig,
    BeforeValidator(_callback_from_name, json_schema_input_type=Literal[tuple(CALLBACKS)] | CallbackConfig),
]
