"""Callback configs with Keras's names, arguments and defaults (the torch-side behaviour is in modelspec.callbacks.runtime).

    fit:
      callbacks:
        - {type: EarlyStopping, monitor: val_loss, patience: 3, restore_best_weights: true, verbose: 1}
        - {type: ModelCheckpoint, save_best_only: true, monitor: val_accuracy}
        - {type: ReduceLROnPlateau, factor: 0.5, patience: 2}
        - {type: LearningRateScheduler, schedule: {type: exponential, decay_rate: 0.9}}
        - {type: CSVLogger, filename: log.csv}
        - TerminateOnNaN
        - {type: TensorBoard, histogram_freq: 1}      # pip install 'modelspec[tensorboard]'

What callbacks write (filepath, filename, log_dir) are names inside the run directory that keep clear of its
own files (modelspec.run_files) and of each other's; what they read from the logs (monitor, filepath's
{fields}) is checked against the names the training plan logs (check_callbacks, from modelspec.plan).

A callback is one class here, registered by `@register_callback("module:Class")`: its `type` literal gives
its name, its fields its schema, `logs` the names it adds to an epoch's logs, its `outputs()` the files it
writes, and the reference names its torch implementation (a modelspec.callbacks.runtime.Callback subclass
taking the config), which modelspec.callbacks.runtime.build_callback imports when it builds one.

No torch here: this module is used while validating specs (those with fit.callbacks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from string import Formatter
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, ValidatorFunctionWrapHandler, field_validator, model_validator

from modelspec.config import NonNegativeInt, PositiveInt, StrictModel
from modelspec.errors import did_you_mean, format_choices
from modelspec.implementation import check_reference
from modelspec.run_files import check_inside_run_dir, overlap

Mode = Literal["auto", "min", "max"]
#: Keras's `verbose` of the callbacks that have one: 0 silent, 1 (or more) a message for what the callback does.
Verbose = Annotated[NonNegativeInt, Field(description="0: silent; 1: a message when the callback acts (Keras's wording), after the epoch's line.")]


class BaseCallback(StrictModel):
    """What every callback config has. Subclasses set `type` to a one-name literal and are registered by register_callback."""

    #: "module:Class" of the torch implementation, set by register_callback.
    implementation: ClassVar[str]
    #: The names this callback adds to an epoch's logs, for the callbacks after it (and itself).
    logs: ClassVar[tuple[str, ...]] = ()

    def outputs(self) -> list[tuple[str, str]]:
        """(normalised path, key) of what this callback writes in the run directory."""
        return []


#: Every callback config, by its `type` name: the one registration point (register_callback).
CALLBACKS: dict[str, type[BaseCallback]] = {}
C = TypeVar("C", bound=type[BaseCallback])


def register_callback(implementation: str, *, logs: tuple[str, ...] = ()) -> Callable[[C], C]:
    """Class decorator: add a callback config under its `type` literal, implemented by `implementation`
    ("module:Class" of a Callback subclass built from the config), adding `logs` to the epoch's logs."""
    check_reference(implementation)

    def register(cls: C) -> C:
        cls.implementation, cls.logs = implementation, logs
        CALLBACKS[cls.model_fields["type"].annotation.__args__[0]] = cls
        return cls

    return register


_RUNTIME = "modelspec.callbacks.runtime"


@register_callback(f"{_RUNTIME}:EarlyStopping")
class EarlyStopping(BaseCallback):
    """Stop training when a monitored metric has stopped improving."""

    type: Literal["EarlyStopping"]
    monitor: str = "val_loss"
    min_delta: float = 0.0
    patience: NonNegativeInt = 0
    verbose: Verbose = 0
    mode: Mode = "auto"
    baseline: float | None = None
    restore_best_weights: bool = False
    start_from_epoch: NonNegativeInt = 0


#: The largest width or precision of a `{field:spec}` in ModelCheckpoint's filepath.
MAX_FIELD_WIDTH = 64

# Python's format spec: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d+))?[bcdeEfFgGnosxX%]?", re.DOTALL)


def _shown(name: str, spec: str, conversion: str | None) -> str:
    """A replacement field as written: {epoch:02d}."""
    return "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"


def _field_problem(name: str, spec: str, conversion: str | None) -> str | None:
    """Why one `{field}` of a filepath cannot be formatted at each epoch, or None (before its value is known)."""
    shown = _shown(name, spec, conversion)
    if not name or name.isdigit():
        return f"'{shown}': name the field, e.g. {{epoch}} or {{val_loss:.4f}}"
    if not name.isidentifier():
        return f"'{shown}': only plain names, no attributes or items (e.g. {{epoch}} or {{val_loss:.4f}})"
    if "{" in spec:
        return f"'{shown}': a format spec cannot hold another field"
    if "/" in spec or "\\" in spec:
        return f"'{shown}': a format spec cannot hold a path separator"
    match = _FORMAT_SPEC.fullmatch(spec)
    if match is None:
        return f"'{shown}' is not a valid format spec: expected e.g. {{epoch:02d}} or {{val_loss:.4f}}"
    for part in ("width", "precision"):
        if match[part] and int(match[part]) > MAX_FIELD_WIDTH:
            return f"the {part} {match[part]} of '{shown}' is too large: at most {MAX_FIELD_WIDTH}"
    try:
        _sample(name, spec, conversion)
    except (ValueError, TypeError) as error:
        return f"'{shown}' cannot format the value of {name} ({'an integer' if name == 'epoch' else 'a number'}): {error}"
    return None


def _sample(name: str, spec: str, conversion: str | None) -> str:
    """A field formatted as at epoch 1 with a value of 1.0 (a checked spec: its size is bounded)."""
    return ("{0" + _shown(name, spec, conversion)[len(name) + 1:]).format(1 if name == "epoch" else 1.0)


def _template(value: str) -> list[tuple[str, str | None, str, str | None]]:
    """string.Formatter's (literal, field, spec, conversion) parts of a filepath; ValueError when it does not parse."""
    try:
        return list(Formatter().parse(value))
    except ValueError as error:
        raise ValueError(f"'{value}' is not a valid file name template: {error} (write {{{{ and }}}} for literal braces)") from None


@register_callback(f"{_RUNTIME}:ModelCheckpoint")
class ModelCheckpoint(BaseCallback):
    """Save the weights after each epoch into the run directory (`filepath` relative to it)."""

    type: Literal["ModelCheckpoint"]
    filepath: str = Field("best.safetensors", description="File name inside the run directory; may use {epoch}.")
    monitor: str = "val_loss"
    verbose: Verbose = 0
    save_best_only: bool = False
    mode: Mode = "auto"
    initial_value_threshold: float | None = None

    @field_validator("filepath")
    @classmethod
    def _a_template_inside_the_run_directory(cls, value: str) -> str:
        check_inside_run_dir(value)
        parts = _template(value)
        for _, name, spec, conversion in parts:
            why = None if name is None else _field_problem(name, spec, conversion)
            if why is not None:
                raise ValueError(why)
        rendered = "".join(literal + ("" if name is None else _sample(name, spec, conversion)) for literal, name, spec, conversion in parts)
        if any(name is not None for _, name, _, _ in parts):
            try:
                check_inside_run_dir(rendered)
            except ValueError as error:
                raise ValueError(f"'{rendered}' at epoch 1 (from '{value}'): {error}") from None
        return value

    def fields(self) -> list[str]:
        """The names filepath formats: epoch and logged names."""
        return [name for _, name, _, _ in Formatter().parse(self.filepath) if name is not None]

    def outputs(self) -> list[tuple[str, str]]:
        return [(check_inside_run_dir(self.filepath), "filepath")]


@register_callback(f"{_RUNTIME}:ReduceLROnPlateau", logs=("learning_rate",))
class ReduceLROnPlateau(BaseCallback):
    """Multiply the learning rate by `factor` when the monitored metric stops improving."""

    type: Literal["ReduceLROnPlateau"]
    monitor: str = "val_loss"
    factor: float = Field(0.1, gt=0.0, lt=1.0)
    patience: NonNegativeInt = 10
    verbose: Verbose = 0
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


@register_callback(f"{_RUNTIME}:LearningRateScheduler", logs=("learning_rate",))
class LearningRateScheduler(BaseCallback):
    """Set the learning rate at the start of each epoch from a named schedule (Keras takes a function; a spec names one)."""

    type: Literal["LearningRateScheduler"]
    schedule: EpochSchedule
    verbose: Verbose = 0


@register_callback(f"{_RUNTIME}:CSVLogger")
class CSVLogger(BaseCallback):
    """Also stream the per-epoch history to `filename` inside the run directory (history.csv is always written)."""

    type: Literal["CSVLogger"]
    filename: str = "log.csv"
    separator: str = ","
    append: bool = False

    @field_validator("filename")
    @classmethod
    def _inside_the_run_directory(cls, value: str) -> str:
        check_inside_run_dir(value)
        return value

    def outputs(self) -> list[tuple[str, str]]:
        return [(check_inside_run_dir(self.filename), "filename")]


@register_callback(f"{_RUNTIME}:TerminateOnNaN")
class TerminateOnNaN(BaseCallback):
    """Stop when the loss becomes NaN or infinite, keeping the last good weights (on by default)."""

    type: Literal["TerminateOnNaN"]


@register_callback(f"{_RUNTIME}:TensorBoard")
class TensorBoard(BaseCallback):
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
        check_inside_run_dir(value, directory=True)
        return value

    def outputs(self) -> list[tuple[str, str]]:
        log_dir = check_inside_run_dir(self.log_dir, directory=True)
        return [(log_dir, "log_dir")] if log_dir != "." else [("train", "log_dir"), ("validation", "log_dir")]

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


CallbackConfig = Annotated[Union[tuple(CALLBACKS.values())], Field(discriminator="type")]  # noqa: UP007 (a runtime-built union)


def _callback_from_name(value: object) -> object:
    return {"type": value} if isinstance(value, str) else value


#: A callback entry: a config mapping, or a bare name for one with no arguments.
CallbackSpec = Annotated[
    CallbackConfig,
    BeforeValidator(_callback_from_name, json_schema_input_type=Literal[tuple(CALLBACKS)] | CallbackConfig),
]


#: A located problem of fit.callbacks: (message, path under fit.callbacks).
CallbackProblem = tuple[str, tuple[int | str, ...]]


def check_callbacks(callbacks: list[Any], logged: list[str], *, validation_freq: int = 1) -> list[CallbackProblem]:
    """What the callbacks read from the logs against the names training logs (`logged`, val_* among them with
    validation data: TrainingPlan.logged_names), and the files they write against each other's."""
    return [*_read_problems(callbacks, logged, validation_freq), *_collisions(callbacks)]


def _read_problems(callbacks: list[Any], logged: list[str], validation_freq: int) -> Iterator[CallbackProblem]:
    for index, config in enumerate(callbacks):
        where = f"fit.callbacks[{index}]"
        if isinstance(config, (EarlyStopping, ReduceLROnPlateau)) or isinstance(config, ModelCheckpoint) and (
                config.save_best_only or "monitor" in config.model_fields_set):
            why = _not_logged(config.monitor, callbacks, index, logged)
            default = "" if "monitor" in config.model_fields_set else " (the default)"
            if why is not None:
                yield f"{where}.monitor: '{config.monitor}'{default} {why}", (index, "monitor")
        if isinstance(config, ModelCheckpoint):
            for name in dict.fromkeys(config.fields()):
                why = None if name == "epoch" else _not_logged(name, callbacks, index, logged, field=True)
                if why is None and name.startswith("val_") and validation_freq > 1 and not (config.save_best_only and config.monitor.startswith("val_")):
                    why = (f"is logged only in the epochs that validate (fit.validation_freq: {validation_freq}): "
                           "leave it out of the file name, or save with save_best_only and a val_* monitor")
                if why is not None:
                    yield f"{where}.filepath: '{{{name}}}' {why}", (index, "filepath")


def _not_logged(name: str, callbacks: list[Any], index: int, logged: list[str], *, field: bool = False) -> str | None:
    """Why callback `index` cannot read `name` from the logs, or None when it can."""
    loggers = [i for i, config in enumerate(callbacks) if "learning_rate" in config.logs]
    available = [*logged, *(["learning_rate"] if any(i <= index for i in loggers) else [])]
    if name in available:
        return None
    if name == "learning_rate" and loggers:
        later = loggers[0]
        return (f"is logged by {callbacks[later].type} (fit.callbacks[{later}]), which runs after this callback: "
                "list it before this one")
    if name == "learning_rate":
        return "is logged only with a ReduceLROnPlateau or LearningRateScheduler callback before this one"
    if name.startswith("val_") and name[4:] in available and not any(logged_name.startswith("val_") for logged_name in logged):
        return f"is logged only with validation data: add data.validation or fit.validation_split, or {'use' if field else 'monitor'} '{name[4:]}'"
    nor = " nor 'epoch'" if field else ""
    return f"is not a name training logs{nor}{did_you_mean(name, [*available, *(['epoch'] if field else [])]) or f' (logged: {format_choices(available)})'}"


def _collisions(callbacks: list[Any]) -> Iterator[CallbackProblem]:
    """Each output that an earlier callback's output is, holds or lies in."""
    seen: list[tuple[str, str, int]] = []
    for index, config in enumerate(callbacks):
        outputs = config.outputs()
        for path, key in outputs:
            for other, other_key, other_index in seen:
                how = overlap(path, other)
                if how is not None:
                    written = f"{callbacks[other_index].type} (fit.callbacks[{other_index}].{other_key})"
                    relation = {"same": f"is also written by {written}", "inside": f"is inside '{other}', which {written} writes",
                                "contains": f"would be the folder of '{other}', which {written} writes"}[how]
                    yield (f"fit.callbacks[{index}].{key}: '{getattr(config, key)}' {relation}: two callbacks cannot write the same file "
                           "or folder, choose another name"), (index, key)
                    break
        seen.extend((path, key, index) for path, key in outputs)
