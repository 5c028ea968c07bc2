"""Training runs, evaluation and prediction: what `modelspec train/evaluate/predict` do.

A run directory (default `runs/<name>-<timestamp>`) holds, each written atomically:
- `spec.yaml`: the spec as trained, overrides applied, its file paths relative to the run directory
  (modelspec.training.saved_spec), so every command runs it from any working directory;
- `history.csv`: a row per epoch (Keras's CSVLogger layout), rewritten as each epoch ends;
- `model.safetensors`: the weights (after the last completed epoch);
- `checkpoint.pt`: weights, optimizer, epoch, random states and callback states, for --resume;
- `run.json`: status (running, finished, interrupted, stopped, failed), seed, overrides, times, the
  entries the run created (`files`) and checkpoint.pt's sha256 (checked by --resume).

Everything is checked (spec, data, weights, the checkpoint to resume) before anything is written.
SIGTERM during training is handled as Ctrl-C (`Terminated`, a KeyboardInterrupt).
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from modelspec.callbacks.runtime import Callback, EarlyStopping, build_callback
from modelspec.checked import CheckedSpec as Prepared
from modelspec.data.batches import Batches
from modelspec.data.config import file_source, file_source_forms
from modelspec.data.predictions import PREDICTION_FORMATS, prediction_columns, prediction_format, table_problem, write_predictions
from modelspec.errors import DataError, Problem, SpecError, UsageError, WeightsError
from modelspec.files import atomic_write_stream
from modelspec.graph import Graph, is_stateful
from modelspec.optimizers.runtime import current_learning_rate, set_learning_rate
from modelspec.resources import check_memory
from modelspec.training import run_dir as rundir
from modelspec.training.checkpoint import first_line
from modelspec.training.device import resolve_device
from modelspec.training.distributed import SingleProcess, World
from modelspec.training.engine import Engine
from modelspec.training.history import last_values, record_epoch
from modelspec.training.inputs import WEIGHT_KEY, check_trainable, load_arrays, load_inputs, make_batches
from modelspec.training.run_dir import RunDirectory, RunDirError
from modelspec.training.saved_spec import dump, relocated_data, saved_spec_text
from modelspec.weights import load_weights


class Terminated(KeyboardInterrupt):
    """SIGTERM (schedulers, containers) during training: handled as Ctrl-C; a command exits 128 + 15."""

    exit_code = 128 + signal.SIGTERM


def _step_arrays(engine: Engine, graph: Graph, batch: dict[str, torch.Tensor]):
    inputs = [batch[name] for name in graph.inputs]
    targets = {name: batch[name] for name in engine.losses}
    return inputs, targets, batch.get(WEIGHT_KEY)


#: A world of one process where only its size matters (its device is never resolved).
_ALONE = SingleProcess()


def evaluate_batches(engine: Engine, graph: Graph, batches: Batches, world: World = _ALONE) -> dict[str, float]:
    """Loss and metrics over `batches`, summed over the processes of `world`."""
    engine.reset_metrics()
    engine.reset_states()
    for batch, size in batches.epoch():
        engine.test_step(*_step_arrays(engine, graph, batch), size)
    world.sum_metrics(engine)  # every process's shard: the totals of all the data
    return engine.logs()


class _NonFiniteLoss(Exception):
    pass


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While training (in the main thread): SIGTERM raises Terminated, so the run ends as on Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class RunContext:
    """A TrainingRun as its callbacks see it (modelspec.callbacks.runtime.CallbackContext): read through, never the run."""

    def __init__(self, run: TrainingRun):
        self._run = run

    @property
    def run_dir(self) -> Path:
        return self._run.run_dir

    @property
    def is_main_process(self) -> bool:
        return self._run.is_main_process

    @property
    def model(self) -> torch.nn.Module:
        return self._run.engine.module

    @property
    def device(self) -> torch.device:
        return self._run.engine.device

    @property
    def history(self) -> dict[str, list[float | None]]:
        return self._run.history

    @property
    def learning_rate(self) -> float:
        return current_learning_rate(self._run.engine.optimizer)

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        set_learning_rate(self._run.engine.optimizer, value)

    def stop(self, reason: str) -> None:
        self._run.stop(reason)

    def weights(self) -> dict[str, torch.Tensor]:
        return self._run.weights_copy()

    def set_weights(self, state: dict[str, torch.Tensor]) -> None:
        self._run.engine.module.load_state_dict(state)

    def sample_inputs(self) -> tuple[torch.Tensor, ...]:
        batch, _ = next(iter(self._run.train.epoch(steps=1)))
        return tuple(batch[name] for name in self._run.prepared.graph.inputs)

    def discard_penalties(self) -> None:
        self._run.engine.regularization.clear()

    def message(self, text: str) -> None:
        for callback in self._run.callbacks:  # the CLI's progress among them prints it
            callback.on_message(text)


@dataclass
class RunResult:
    run_dir: Path
    history: dict[str, list[float | None]]  # a value an epoch: "epoch" (0-based), then each metric, None where not computed
    epochs: int
    status: str
    message: str = ""
    test: dict[str, float] | None = None

    @property
    def final(self) -> dict[str, float]:
        """Each metric's last value (a val_* one from the last epoch that validated)."""
        return last_values(self.history)


class TrainingRun:
    """One `modelspec train`: its inputs loaded and checked, its run directory chosen, then the epoch loop.

    The data is modelspec.training.inputs', the directory's files modelspec.training.run_dir.RunDirectory's;
    this class holds the loop and the state a checkpoint saves (weights, optimizer, random states, history,
    the spec's callbacks)."""

    def __init__(self, prepared: Prepared, run_dir: Path | None = None, *, resume: bool = False, seed: int = 0,
                 device: str = "auto", callbacks: list[Callback] = (), overwrite: bool = False, force: bool = False,
                 world: World | None = None):
        self.prepared, self.seed, self.resume, self.overwrite = prepared, seed, resume, overwrite
        # This process's place among the run's processes (modelspec.training.distributed; `device` alone: a
        # world of one): only process 0 writes the run directory.
        world = SingleProcess(device) if world is None else world
        self.world, self.is_main_process = world, world.is_main
        check_memory(prepared.graph, training=True, force=force, batch_size=prepared.spec.fit.batch_size)
        check_trainable(prepared)
        spec = prepared.spec
        self.device = world.device  # one process: --device resolved here, after the checks above
        # Everything is checked before anything is written.
        self.inputs = load_inputs(prepared, world, force=force)
        self.train, self.validation = self.inputs.train, self.inputs.validation
        path = rundir.choose(run_dir, resume=resume, overwrite=overwrite, name=spec.name, spec_texts=self._resumable_texts)
        identity = {"spec": str(prepared.path), "name": spec.name, "overrides": prepared.overrides, "seed": seed}
        self.directory = RunDirectory(path, resume=resume, overwrite=overwrite, identity=identity,
                                      processes=world.size if world.size > 1 else None)  # run.json: no "processes" for one
        self.run_dir, self.checkpoint_path = path, self.directory.checkpoint
        self.shuffle = False if is_stateful(prepared.graph) else spec.fit.shuffle
        self.engine = Engine(prepared.graph, prepared.plan, device=self.device, seed=seed, jit_compile=spec.fit.jit_compile,
                             mixed_precision=spec.fit.mixed_precision)
        world.seed(seed)  # processes 1..N-1: streams of their own
        self.generator = torch.Generator().manual_seed(seed)  # the same permutations in every process
        self.spec_callbacks = [build_callback(config) for config in spec.fit.callbacks]
        self.callbacks = [*self.spec_callbacks, *callbacks]
        self.history: dict[str, list[float | None]] = {}  # columns of per-epoch rows: record_epoch
        self.start_epoch = spec.fit.initial_epoch
        self.stop_reason: str | None = None
        if resume:
            self._restore()
        fit = spec.fit
        self.params = {"epochs": fit.epochs, "steps": min(len(self.train), fit.steps_per_epoch or len(self.train)),
                       "initial_epoch": self.start_epoch, "batch_size": fit.batch_size, "resume": resume}
        context = RunContext(self)
        for callback in self.callbacks:
            callback.set_context(context, self.params)

    def _resumable_texts(self, run_dir: Path) -> tuple[str, str]:
        """The spec.yaml a run of this spec in `run_dir` holds: its paths relative to `run_dir` (or, written
        before modelspec rewrote them, as in the spec)."""
        return dump(relocated_data(self.prepared, run_dir)), dump(self.prepared.located.data)

    def _status(self, status: str, **extra: Any) -> None:
        if self.is_main_process:
            self.directory.status(status, len(self.history.get("epoch", [])), **extra)

    # ----- checkpoints --------------------------------------------------------------------------
    def weights_copy(self) -> dict[str, torch.Tensor]:
        return {name: tensor.detach().clone() for name, tensor in self.engine.module.state_dict().items()}

    def _save(self, epochs_done: int) -> None:
        process_rng = self.world.checkpoint_rng()  # a collective: in every process ({} for one process)
        if not self.is_main_process:
            return
        state = {
            "format": 1,
            "epoch": epochs_done,
            "model": self.engine.module.state_dict(),
            "optimizer": self.engine.optimizer.state_dict(),
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
            "shuffle_rng": self.generator.get_state(),
            "history": self.history,
            "callbacks": [callback.state_dict() for callback in self.spec_callbacks],
            "stop_reason": self.stop_reason,
            **process_rng,
        }
        self.directory.save(epochs_done, state, self.engine.module, self.history)

    def _restore(self) -> None:
        """Check checkpoint.pt (its recorded sha256, its archive, every entry) before anything uses it, then load it."""
        path = self.checkpoint_path
        state = self.directory.read_checkpoint(self.engine.module.state_dict(), self.engine.optimizer, len(self.spec_callbacks), self.device)
        processes, now = state.get("processes", 1), self.world.size
        if processes != now:
            raise UsageError(f"--resume: '{self.run_dir}' was trained with {processes} process(es) (a global batch of {processes} x fit.batch_size) "
                             f"and this run has {now}: resume it with --nproc {processes}")
        try:
            self._load_state(state)
        except (RuntimeError, KeyError, TypeError, ValueError) as error:  # what load_state_dict and set_state raise
            raise WeightsError(f"cannot resume from '{path}': {first_line(error)} (not a checkpoint of this run?)") from None
        self.directory.saved_epoch = state["epoch"]

    def _load_state(self, state: dict[str, Any]) -> None:
        """Put a checked checkpoint's states into the engine, the random generators and the callbacks."""
        self.engine.module.load_state_dict(state["model"])
        self.engine.optimizer.load_state_dict(state["optimizer"])
        self.world.restore_checkpoint_rng(state)  # several processes: each its own streams
        self.generator.set_state(state["shuffle_rng"].cpu())
        self.history = state["history"]
        for callback, callback_state in zip(self.spec_callbacks, state["callbacks"]):
            callback.load_state_dict(callback_state)
        self.start_epoch = state["epoch"]
        self.stop_reason = state["stop_reason"]

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after this epoch (EarlyStopping)."""
        self.stop_reason = reason

    # ----- the loop -----------------------------------------------------------------------------
    def _read_logs(self) -> dict[str, float]:
        logs = self.engine.logs()
        if not math.isfinite(logs.get("loss", 0.0)):
            raise _NonFiniteLoss()
        return logs

    def _epoch(self, epoch: int) -> dict[str, float]:
        engine, graph = self.engine, self.prepared.graph
        engine.reset_metrics()
        engine.reset_states()
        steps = min(len(self.train), self.prepared.spec.fit.steps_per_epoch or len(self.train))
        # Only the callbacks that do something per batch are called per batch (Callback.on_batch_end does nothing).
        per_batch = [callback for callback in self.callbacks if getattr(callback.on_batch_end, "__func__", None) is not Callback.on_batch_end]
        # Several processes: a progress bar shows process 0's running values (the others are not asked, and
        # none stops alone at a non-finite loss mid-epoch).
        read_logs = self._read_logs if self.world.size == 1 else engine.logs
        train_step, input_names, target_names = engine.train_step, list(graph.inputs), list(engine.losses)
        for step, (batch, size) in enumerate(self.train.epoch(shuffle=self.shuffle, generator=self.generator, steps=steps)):
            train_step([batch[name] for name in input_names], {name: batch[name] for name in target_names}, batch.get(WEIGHT_KEY), size)
            for callback in per_batch:
                callback.on_batch_end(epoch, step, steps, read_logs)
        self.world.sum_metrics(engine)  # the epoch's totals over every process's shard
        logs = self._read_logs()
        if self.validation is not None and (epoch + 1) % self.prepared.spec.fit.validation_freq == 0:
            logs.update({f"val_{name}": value for name, value in evaluate_batches(engine, graph, self.validation, self.world).items()})
        return logs

    def fit(self) -> RunResult:
        if self.is_main_process:
            self.directory.open(len(self.history.get("epoch", [])))
        try:
            with _sigterm_interrupts():
                return self._fit()
        except KeyboardInterrupt:
            self._final_status("interrupted")
            raise
        except OSError as error:
            self._final_status("failed", error=str(error))
            raise self.directory.write_error(error) from None
        except BaseException as error:
            self._final_status("failed", error=str(error))
            raise
        finally:
            if self.is_main_process:
                self.directory.close()

    def _final_status(self, status: str, **extra: Any) -> None:
        """Record how the run ended, if the directory can still be written (it may be the failure)."""
        try:
            self._status(status, **extra)
        except OSError:
            pass

    def _fit(self) -> RunResult:
        self.world.data_parallel(self.engine, self.train)  # a collective: once process 0 has prepared the run directory
        if not self.resume:
            if self.is_main_process:
                self.directory.write_spec(saved_spec_text(self.prepared, self.run_dir))
            self._save(self.start_epoch)  # a resumable starting point, before the first epoch
        self._status("running")
        for callback in self.callbacks:
            callback.on_train_begin()
        epochs = self.prepared.spec.fit.epochs
        status, message, nonfinite_epoch = "finished", "", None
        for epoch in range(self.start_epoch, epochs):
            if self.stop_reason:
                break
            for callback in self.callbacks:
                callback.on_epoch_begin(epoch)
            try:
                logs = self._epoch(epoch)
            except _NonFiniteLoss:
                status, nonfinite_epoch = "stopped", epoch
                break
            for callback in self.callbacks:
                callback.on_epoch_end(epoch, logs)
            record_epoch(self.history, epoch, logs)
            self._save(epoch + 1)
        if status == "finished" and self.stop_reason:
            message = self.stop_reason
        for callback in self.callbacks:
            callback.on_train_end(last_values(self.history))
        if nonfinite_epoch is not None:  # after on_train_end, where EarlyStopping may restore (and save) its best weights
            message = self._nonfinite_message(nonfinite_epoch)
        test = None
        batches = self.inputs.test_batches() if status == "finished" else None
        if batches is not None:
            test = evaluate_batches(self.engine, self.prepared.graph, batches, self.world)
        self._status(status, message=message, **({"test": test} if test else {}))
        return RunResult(self.run_dir, {name: list(column) for name, column in self.history.items()}, len(self.history.get("epoch", [])), status, message, test)

    def _nonfinite_message(self, epoch: int) -> str:
        """Why training stopped at a NaN or infinite loss in `epoch`, and whose weights model.safetensors holds."""
        stopped = f"the loss became NaN or infinite during epoch {epoch + 1}: training stopped (TerminateOnNaN); "
        for callback in self.callbacks:
            if isinstance(callback, EarlyStopping) and callback.restored_epoch is not None:
                best = (f", the best {callback.config.monitor} ({callback.best:.6g})"
                        if callback.restored_epoch == callback.best_epoch and math.isfinite(callback.best) else "")
                return stopped + (f"model.safetensors holds the weights of epoch {callback.restored_epoch + 1}{best}, "
                                  "restored by EarlyStopping (restore_best_weights)")
        finished = self.history.get("epoch", [])
        if finished:
            return stopped + f"model.safetensors holds the weights after epoch {int(finished[-1]) + 1}, the last with a finite loss"
        return stopped + "model.safetensors holds the weights training started from: no epoch ended with a finite loss"


# ----- evaluate and predict ---------------------------------------------------------------------
def _engine_with_weights(prepared: Prepared, weights: str | Path, device: str, force: bool = False) -> Engine:
    check_memory(prepared.graph, training=False, force=force, batch_size=prepared.spec.fit.batch_size)
    engine = Engine(prepared.graph, prepared.plan, device=resolve_device(device), mixed_precision=prepared.spec.fit.mixed_precision)
    load_weights(engine.module, weights)
    return engine


def _source(prepared: Prepared, data: str | None, *splits: str) -> tuple[Any, str]:
    if data is not None:
        source = file_source(str(Path(data).resolve()), prepared.spec.data.columns if prepared.spec.data else None)
        if source is None:
            raise DataError(f"--data '{data}': expected {file_source_forms()}")
        return source, "test"
    for split in splits:
        source = getattr(prepared.spec.data, split, None) if prepared.spec.data else None
        if source is not None:
            return source, split
    raise DataError(f"no data: give --data FILE.npz, or data.{' / data.'.join(splits)} in the spec")


def evaluate(prepared: Prepared, weights: str | Path, data: str | None = None, device: str = "auto", *, force: bool = False) -> dict[str, float]:
    """Loss and metrics of trained weights on --data or the spec's test (else validation) data."""
    if not prepared.plan.outputs or all(o.loss is None for o in prepared.plan.outputs.values()):
        raise SpecError([prepared.located.problem("evaluation needs a loss: add compile: {loss: ...}", ("compile",))])
    resolve_device(device)  # a bad --device before any data is read
    source, split = _source(prepared, data, "test", "validation")
    arrays = load_arrays(prepared, source, split, force=force)
    engine = _engine_with_weights(prepared, weights, device, force)
    batches = make_batches(prepared, arrays, prepared.spec.fit.batch_size, SingleProcess(engine.device))
    return evaluate_batches(engine, prepared.graph, batches)


def predict(prepared: Prepared, weights: str | Path, data: str, output: str | Path, device: str = "auto", *, force: bool = False) -> dict[str, np.ndarray]:
    """Outputs for --data's inputs, saved to `output`: an .npz (arrays named after the outputs; `y` for a sequential
    model) or a .csv / .tsv / .parquet table (modelspec.data.predictions: a column a unit, a classifier's class)."""
    table = prediction_format(str(output))
    if table is None and not str(output).lower().endswith(".npz"):
        raise DataError(f"--output '{output}': expected a file name ending in .npz, or a table: {', '.join(PREDICTION_FORMATS)}")
    if table is not None and table_problem(prepared.graph.output_shapes):
        raise DataError(f"--output '{output}': {table_problem(prepared.graph.output_shapes)}")
    resolve_device(device)
    source, split = _source(prepared, data)
    arrays = load_arrays(prepared, source, split, targets=False, force=force)
    engine = _engine_with_weights(prepared, weights, device, force)
    batches = make_batches(prepared, arrays, prepared.spec.fit.batch_size, SingleProcess(engine.device))
    engine.reset_states()
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in engine.output_names}
    for batch, _ in batches.epoch():
        for name, value in engine.predict_step([batch[n] for n in prepared.graph.inputs]).items():
            chunks[name].append(value.cpu().numpy())
    results = {name: np.concatenate(parts) for name, parts in chunks.items()}
    columns = prediction_columns(results, prepared.plan.outputs) if table is not None else None
    try:
        atomic_write_stream(output, (lambda handle: np.savez(handle, **results)) if table is None
                            else lambda handle: write_predictions(handle, columns, table))
    except OSError as error:
        raise UsageError(f"--output '{output}': cannot write it: {error.strerror or error}; nothing was written") from None
    return results


__all__ = ["Problem", "RunDirError", "RunResult", "Terminated", "TrainingRun", "evaluate", "predict"]
