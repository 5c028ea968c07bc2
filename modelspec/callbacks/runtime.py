"""Callbacks with Keras's behaviour: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
LearningRateScheduler, CSVLogger, TerminateOnNaN, TensorBoard (on torch.utils.tensorboard, an optional extra);
and the base class progress reporting uses.

A callback's state (`state_dict`) is saved in each training checkpoint, so a resumed run
continues with the same patience counters and best values as an uninterrupted one.

As in Keras, the loop hands each callback, before on_train_begin, `params` (epochs, steps, initial_epoch,
batch_size, resume) and a narrow `context` (CallbackContext: the model and its weights, the learning rate,
stop, the run directory, the history of the epochs before, messages), never the run itself.

With `verbose: 1` (Keras's argument, default 0), EarlyStopping, ModelCheckpoint, ReduceLROnPlateau and
LearningRateScheduler report Keras's messages (`Epoch 12: early stopping`) through `context.message`; the run hands
them to every callback's `on_message`, where the CLI's progress display prints them. The library prints nothing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import MethodType
from typing import Any, Protocol

import torch

from modelspec.callbacks import config as configs
from modelspec.files import atomic_write_text
from modelspec.implementation import resolve
from modelspec.training.history import history_rows, rows_csv
from modelspec.weights import save_weights


class CallbackContext(Protocol):
    """What a callback may use of the run that calls it (modelspec.training.run implements it)."""

    #: The run directory, where callbacks write (names inside it: modelspec.run_files).
    run_dir: Path
    #: Whether this process writes the run directory (process 0 of several; always with one).
    is_main_process: bool
    #: The torch module being trained, and the device it is on.
    model: torch.nn.Module
    device: torch.device
    #: The run's history of the epochs before this one (columns: modelspec.training.history).
    history: dict[str, list[float | None]]
    #: The optimizer's learning rate (settable).
    learning_rate: float

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after this epoch."""

    def weights(self) -> dict[str, torch.Tensor]:
        """A copy of the model's state."""

    def set_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Load a state into the model."""

    def sample_inputs(self) -> tuple[torch.Tensor, ...]:
        """The inputs of one training batch, in the graph's input order (to trace the model)."""

    def discard_penalties(self) -> None:
        """Forget the activity penalties that forward passes outside the loop collected."""

    def message(self, text: str) -> None:
        """Report a message for the user (a callback's verbose output): the run hands it to every callback's on_message."""


class Callback:
    """Hooks called by the training loop. `params` and `context` are set (set_context) before on_train_begin."""

    params: dict[str, Any]
    context: CallbackContext
    #: Keras's verbose: above 0, `report` passes messages on to the context.
    verbose: int = 0

    def set_context(self, context: CallbackContext, params: dict[str, Any]) -> None:
        self.context, self.params = context, params

    def on_train_begin(self) -> None: ...
    def on_epoch_begin(self, epoch: int) -> None: ...
    def on_batch_end(self, epoch: int, step: int, steps: int, read_logs: Callable[[], dict[str, float]]) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None: ...
    def on_train_end(self, logs: dict[str, float]) -> None: ...
    def on_message(self, text: str) -> None:
        """A message another callback reported (context.message): the CLI's progress prints it."""

    def report(self, text: str) -> None:
        """Keras's `io_utils.print_msg` for a callback with `verbose` above 0: through the context, which prints nothing."""
        if self.verbose > 0:
            self.context.message(text)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def _better(mode: str, monitor: str) -> Callable[[float, float], bool]:
    """Keras's "auto" mode: maximise accuracies and AUC, minimise everything else."""
    if mode == "auto":
        mode = "max" if any(word in monitor for word in ("acc", "auc", "precision", "recall")) else "min"
    return (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)


def _worst(better: Callable[[float, float], bool]) -> float:
    return -math.inf if better(1.0, 0.0) else math.inf


class EarlyStopping(Callback):
    def __init__(self, config: configs.EarlyStopping):
        self.config, self.verbose = config, config.verbose
        self.better = _better(config.mode, config.monitor)
        self.min_delta = abs(config.min_delta) * (1 if self.better(1.0, 0.0) else -1)
        self.wait, self.best, self.best_epoch = 0, _worst(self.better), 0
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.weights_epoch = 0  # the epoch best_weights are from
        self.restored_epoch: int | None = None  # the epoch whose weights were restored (and saved), once restored
        self.stopped_epoch = 0

    def _improves(self, value: float, reference: float | None) -> bool:
        return reference is None or self.better(value - self.min_delta, reference)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        current = logs.get(self.config.monitor)
        if current is None or epoch < self.config.start_from_epoch:
            return
        if self.config.restore_best_weights and self.best_weights is None:
            self.best_weights, self.weights_epoch = self.context.weights(), epoch
        self.wait += 1
        if self._improves(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.config.restore_best_weights:
                self.best_weights, self.weights_epoch = self.context.weights(), epoch
            if self.config.baseline is None or self._improves(current, self.config.baseline):
                self.wait = 0
            return
        if self.wait >= self.config.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.context.stop(f"EarlyStopping: {self.config.monitor} did not improve for {self.wait} epoch(s)")
            if self.config.restore_best_weights and self.best_weights is not None:
                self.context.set_weights(self.best_weights)
                self.restored_epoch = self.weights_epoch

    def on_train_end(self, logs: dict[str, float]) -> None:
        # Keras 3 restores the best weights when training ends, whether it stopped early or ran all its
        # epochs (a stop restored them already, before model.safetensors was written for that epoch).
        if self.stopped_epoch:
            self.report(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if not self.config.restore_best_weights or self.best_weights is None:
            return
        if not self.stopped_epoch:
            self.context.set_weights(self.best_weights)
            self.restored_epoch = self.weights_epoch
            if self.context.is_main_process:  # several processes: process 0 writes
                save_weights(self.context.model, self.context.run_dir / "model.safetensors")
        self.report(f"Restoring model weights from the end of the best epoch: {self.weights_epoch + 1}.")

    def state_dict(self) -> dict[str, Any]:
        return {"wait": self.wait, "best": self.best, "best_epoch": self.best_epoch, "best_weights": self.best_weights, "stopped_epoch": self.stopped_epoch,
                "weights_epoch": self.weights_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.wait, self.best, self.best_epoch = state["wait"], state["best"], state["best_epoch"]
        self.best_weights, self.stopped_epoch = state["best_weights"], state["stopped_epoch"]
        self.weights_epoch = state.get("weights_epoch", self.best_epoch)  # checkpoints written before it was saved


class ModelCheckpoint(Callback):
    def __init__(self, config: configs.ModelCheckpoint):
        self.config, self.verbose = config, config.verbose
        self.better = _better(config.mode, config.monitor)
        self.best = config.initial_value_threshold if config.initial_value_threshold is not None else _worst(self.better)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        monitor, current = self.config.monitor, logs.get(self.config.monitor)
        if self.config.save_best_only and current is None:
            return
        if self.config.save_best_only and not self.better(current, self.best):
            self.report(f"Epoch {epoch + 1}: {monitor} did not improve from {self.best:.5f}")
            return
        # After the check above: a val_* field is then formatted only in epochs that validate (the spec's checks allow it only so).
        path = self.context.run_dir / self.config.filepath.format_map({**logs, "epoch": epoch + 1})
        if self.config.save_best_only:
            self.report(f"Epoch {epoch + 1}: {monitor} improved from {self.best:.5f} to {current:.5f}, saving model to {path}")
            self.best = current
        else:
            self.report(f"Epoch {epoch + 1}: saving model to {path}")
        if self.context.is_main_process:
            save_weights(self.context.model, path)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]


def _shown_rate(value: float) -> str:
    """A learning rate in a message: Python's shortest form, float noise rounded off (0.0001, not 0.00010000000000000002)."""
    return str(float(f"{value:.12g}"))


class ReduceLROnPlateau(Callback):
    def __init__(self, config: configs.ReduceLROnPlateau):
        self.config, self.verbose = config, config.verbose
        better = _better(config.mode, config.monitor)
        maximise = better(1.0, 0.0)
        self.improves = (lambda a, b: a > b + config.min_delta) if maximise else (lambda a, b: a < b - config.min_delta)
        self.best, self.wait, self.cooldown_counter = _worst(better), 0, 0

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        context = self.context
        logs["learning_rate"] = context.learning_rate
        current = logs.get(self.config.monitor)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.improves(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.config.patience:
                old = context.learning_rate
                if old > self.config.min_lr:
                    context.learning_rate = max(old * self.config.factor, self.config.min_lr)
                    self.cooldown_counter, self.wait = self.config.cooldown, 0
                    self.report(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {_shown_rate(context.learning_rate)}.")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.wait, self.cooldown_counter = state["best"], state["wait"], state["cooldown_counter"]


def epoch_learning_rate(schedule: Any, epoch: int, initial: float) -> float:
    """The learning rate of a named epoch schedule (see modelspec.callbacks.config) at `epoch` (0-based)."""
    if isinstance(schedule, configs.ExponentialEpochSchedule):
        return initial * schedule.decay_rate**epoch
    if isinstance(schedule, configs.StepEpochSchedule):
        return initial * schedule.drop ** (epoch // schedule.epochs_drop)
    if isinstance(schedule, configs.CosineEpochSchedule):
        progress = min(epoch, schedule.epochs) / schedule.epochs
        return initial * (schedule.alpha + (1 - schedule.alpha) * 0.5 * (1 + math.cos(math.pi * progress)))
    index = sum(epoch >= boundary for boundary in schedule.boundaries)
    return schedule.values[index]


class LearningRateScheduler(Callback):
    def __init__(self, config: configs.LearningRateScheduler):
        self.config, self.verbose = config, config.verbose
        self.initial: float | None = None

    def on_epoch_begin(self, epoch: int) -> None:
        if self.initial is None:
            self.initial = self.context.learning_rate
        self.context.learning_rate = epoch_learning_rate(self.config.schedule, epoch, self.initial)
        self.report(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {_shown_rate(self.context.learning_rate)}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        logs["learning_rate"] = self.context.learning_rate

    def state_dict(self) -> dict[str, Any]:
        return {"initial": self.initial}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.initial = state["initial"]


class CSVLogger(Callback):
    """Writes a row per epoch to `filename` in the run directory at each epoch end (atomically), as Keras:
    an `epoch` column, then the sorted names of the logs; NA where an epoch lacks one (validation_freq)."""

    def __init__(self, config: configs.CSVLogger):
        self.config = config

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        # The run's history (restored on --resume) holds the epochs before this one: it adds this one after the callbacks.
        if self.context.is_main_process:
            rows = [*history_rows(self.context.history), {"epoch": epoch, **logs}]
            atomic_write_text(self.context.run_dir / self.config.filename, rows_csv(rows, self.config.separator))


class TerminateOnNaN(Callback):
    """On by default: the loop itself stops on a NaN or infinite loss and keeps the last good weights."""

    def __init__(self, config: configs.TerminateOnNaN | None = None):
        self.config = config


class TensorBoard(Callback):
    """Keras's TensorBoard callback on torch.utils.tensorboard (the optional extra: pip install 'modelspec[tensorboard]').

    Event files go to `<run dir>/<log_dir>/train` and `<run dir>/<log_dir>/validation`, as Keras writes them:
    - at each epoch end, `epoch_<name>` scalars at step = the epoch index (0-based): the training logs, with
      `epoch_learning_rate` (the optimizer's, unless a callback logged one) and, with write_steps_per_second,
      `epoch_steps_per_second`, in train/; the val_* logs, prefix stripped, in validation/;
    - with update_freq N ("batch": 1), also `batch_<name>` every N batches in train/: the epoch's running values, read
      only then, at step = the batch count since epoch 0 (1-based, continued by a resumed run);
    - with histogram_freq N, every N epochs (epoch % N == 0, as Keras), a histogram of each weight, named by
      layer and weight (`dense_1/kernel/histogram`), non-trainable ones (moving means) included;
    - with write_graph, the model's graph, traced by torch.jit (SummaryWriter.add_graph) on the first training batch, in
      eval mode, without gradients and with the random state put back, so training is unchanged. A model torch.jit
      cannot trace gets a warning and no graph, never a failed run.
    Scalars are float32 (TensorBoard's summary values). `--resume` opens new event files in the same directories with
    purge_step at the first step it writes, so TensorBoard drops what the interrupted epoch had written and the
    steps carry on (the graph is not written again). Of several processes, process 0 alone writes: batch scalars
    are its running values (as the progress bar shows), epoch scalars the totals over every process.
    """

    def __init__(self, config: configs.TensorBoard):
        self.config = config
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:  # before anything is written: the run is built before its directory
            from modelspec.curves import MissingDependency

            why = "which is not installed" if importlib.util.find_spec("tensorboard") is None else f"which could not be imported ({error})"
            raise MissingDependency(f"the TensorBoard callback needs the tensorboard package, {why}: pip install 'modelspec[tensorboard]'") from None
        self.summary_writer = SummaryWriter
        self.every: int | None = None if config.update_freq == "epoch" else 1 if config.update_freq == "batch" else config.update_freq
        if self.every is None:  # epoch-level only: the loop calls per batch only the callbacks that override on_batch_end
            self.on_batch_end = MethodType(Callback.on_batch_end, self)  # type: ignore[method-assign]
        self.writers: dict[str, Any] = {}
        self.purge_steps: dict[str, int] = {}
        self.steps = 1  # training batches an epoch
        self.epoch_started = self.last_time = 0.0
        self.last_batch = 0

    def _writer(self, name: str) -> Any:
        """The SummaryWriter of `train` or `validation`, created at its first use (no empty event files)."""
        if name not in self.writers:
            self.writers[name] = self.summary_writer(str(self.context.run_dir / self.config.log_dir / name), purge_step=self.purge_steps.get(name))
        return self.writers[name]

    def on_train_begin(self) -> None:
        if not self.context.is_main_process:
            return
        self.steps = max(1, self.params["steps"])
        if self.params["resume"]:  # TensorBoard forgets what an earlier part wrote at or after these steps (an interrupted epoch)
            start = self.params["initial_epoch"]
            self.purge_steps = {"train": start if self.every is None else start * self.steps + 1, "validation": start}
            self._after_earlier_files()
        elif self.config.write_graph:
            self._write_graph()

    def _after_earlier_files(self) -> None:
        """TensorBoard reads a directory's event files in name order, and a name starts with the second the file was
        created: wait, if need be, for a second after the earlier parts' files so that this part's files come after them."""
        names = [path.name.split(".") for path in (self.context.run_dir / self.config.log_dir).glob("*/events.out.tfevents.*")]
        wait = max((int(parts[3]) for parts in names if parts[3].isdigit()), default=0) + 1 - time.time()
        if 0 < wait <= 2:  # (a clock set back: no waiting)
            time.sleep(wait)

    def _write_graph(self) -> None:
        context = self.context
        module, inputs = context.model, context.sample_inputs()
        training = module.training
        devices = [context.device] if context.device.type == "cuda" else []
        try:
            # add_graph prints the tracer's errors on stdout (kept clean for --json) and the tracer warns about Python control flow.
            with torch.random.fork_rng(devices=devices), torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                module.eval()
                self._writer("train").add_graph(module, inputs)
        except Exception as error:  # noqa: BLE001 (torch.jit.trace fails in many ways; the graph is optional)
            reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
            warnings.warn(f"TensorBoard: no graph written: torch.jit.trace could not trace this model ({type(error).__name__}: {reason}); "
                          "scalars and histograms are written as usual (set write_graph: false to skip the graph)", stacklevel=2)
        finally:
            module.train(training)
            context.discard_penalties()  # activity penalties the traced forward passes collected: not the first step's

    def on_epoch_begin(self, epoch: int) -> None:
        self.epoch_started = self.last_time = time.perf_counter()
        self.last_batch = epoch * self.steps

    def on_batch_end(self, epoch: int, step: int, steps: int, read_logs: Callable[[], dict[str, float]]) -> None:
        if not self.context.is_main_process:
            return
        batch = epoch * self.steps + step + 1
        if batch % self.every:  # type: ignore[operator]
            return
        writer = self._writer("train")
        for name, value in read_logs().items():
            writer.add_scalar(f"batch_{name}", value, batch)
        if self.config.write_steps_per_second:
            now = time.perf_counter()
            writer.add_scalar("batch_steps_per_second", (batch - self.last_batch) / max(now - self.last_time, 1e-9), batch)
            self.last_batch, self.last_time = batch, now

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if not self.context.is_main_process:
            return
        train = {name: value for name, value in logs.items() if not name.startswith("val_")}
        validation = {name.removeprefix("val_"): value for name, value in logs.items() if name.startswith("val_")}
        if "learning_rate" not in train:
            train["learning_rate"] = self.context.learning_rate
        if self.config.write_steps_per_second:  # as Keras: the epoch's steps over its time, validation included
            train["steps_per_second"] = self.steps / max(time.perf_counter() - self.epoch_started, 1e-9)
        for split, scalars in (("train", train), ("validation", validation)):
            if scalars:
                writer = self._writer(split)
                for name, value in scalars.items():
                    writer.add_scalar(f"epoch_{name}", value, epoch)
        if self.config.histogram_freq and epoch % self.config.histogram_freq == 0:
            writer = self._writer("train")
            for name, tensor in self.context.model.state_dict().items():
                if not tensor.is_floating_point():
                    continue  # counters (BatchNormalization's num_batches_tracked)
                values = tensor.detach().float().flatten()
                values = values[torch.isfinite(values)].cpu()
                if values.numel():
                    writer.add_histogram(f"{name.replace('.', '/')}/histogram", values, epoch)
        for writer in self.writers.values():
            writer.flush()

    def on_train_end(self, logs: dict[str, float]) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers = {}


def build_callback(config: configs.BaseCallback) -> Callback:
    """The Callback its config's registration names ("module:Class"), made from the config."""
    return resolve(type(config).implementation)(config)
