"""Training runs, evaluation and prediction: what `modelspec train/evaluate/predict` do.

A run directory (default `runs/<name>-<timestamp>`) holds, each written atomically:
- `spec.yaml`: the spec as trained, overrides applied;
- `history.csv`: a row per epoch (Keras's CSVLogger layout), rewritten as each epoch ends;
- `model.safetensors`: the weights (after the last completed epoch);
- `checkpoint.pt`: weights, optimizer, epoch, random states and callback states, for --resume;
- `run.json`: status (running, finished, interrupted, stopped, failed), seed, overrides, times, the
  entries the run created (`files`) and checkpoint.pt's sha256 (checked by --resume).

Everything is checked (spec, data, weights, the checkpoint to resume) before anything is written.
SIGTERM during training is handled as Ctrl-C (`Terminated`, a KeyboardInterrupt).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import yaml

from modelspec.checked import CheckedSpec as Prepared
from modelspec.data.arrays import ArraySpec
from modelspec.data.batches import Batches
from modelspec.data.checks import check_arrays
from modelspec.data.loading import load_source
from modelspec.data.splits import split_validation
from modelspec.errors import DataError, Problem, SpecError, UsageError, WeightsError
from modelspec.files import atomic_write_stream, atomic_write_text, remove_temporaries
from modelspec.graph import Graph, fixed_batch_size, is_stateful
from modelspec.resources import check_memory
from modelspec.training import run_dir as rundir
from modelspec.callbacks.runtime import Callback, EarlyStopping, build_callback
from modelspec.training.checkpoint import check_archive, check_recorded, check_state, sha256
from modelspec.training.engine import Engine
from modelspec.training.history import history_csv, last_values, record_epoch
from modelspec.weights import load_weights, save_weights
from modelspec.training.run_dir import RunDirError

if TYPE_CHECKING:  # pragma: no cover
    from modelspec.training.distributed import World

WEIGHT_KEY = "#sample_weight"  # not an identifier, so never an input or output name


class Terminated(KeyboardInterrupt):
    """SIGTERM (schedulers, containers) during training: handled as Ctrl-C; a command exits 128 + 15."""

    exit_code = 128 + signal.SIGTERM


def resolve_device(name: str) -> torch.device:
    """--device: auto, cpu, cuda, cuda:N (a GPU this machine has) or mps (where available); UsageError otherwise."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise UsageError("--device mps: no MPS device is available here (use --device cpu or auto)")
        return torch.device("mps")
    cuda = re.fullmatch(r"cuda(?::(\d+))?", name)
    if cuda is None:
        raise UsageError(f"--device {name!r}: expected 'auto', 'cpu', 'cuda', 'cuda:N' (N a GPU's index) or 'mps'")
    if not torch.cuda.is_available():
        raise UsageError(f"--device {name}: no CUDA device is available here (use --device cpu or auto)")
    count = torch.cuda.device_count()
    if cuda.group(1) is not None and int(cuda.group(1)) >= count:
        raise UsageError(f"--device {name}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    return torch.device(name)


def default_run_dir(name: str) -> Path:
    """runs/<name>-<timestamp>, with -2, -3, ... when that exists."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = Path("runs") / f"{name}-{stamp}"
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = Path("runs") / f"{name}-{stamp}-{suffix}"
    return run_dir


def load_arrays(prepared: Prepared, source: Any, split: str, *, targets: bool = True, force: bool = False) -> dict[str, np.ndarray]:
    """Load and check one data source against the model (DataError listing every problem)."""
    expected: list[ArraySpec] = prepared.plan.expected(prepared.graph, targets=targets)
    raw = load_source(source, expected, prepared.base_dir, split, force=force)
    return check_arrays(raw, expected, f"data.{split}", force=force)


def _sample_weights(prepared: Prepared, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
    """fit.sample_weight (a .npy file) times fit.class_weight (by each sample's class), or None."""
    fit, n = prepared.spec.fit, len(next(iter(arrays.values())))
    weights = _read_sample_weights(prepared, n) if fit.sample_weight is not None else None
    if fit.class_weight:
        by_class = _class_weights(prepared, arrays, n)
        weights = by_class if weights is None else weights * by_class
    return weights


def _read_sample_weights(prepared: Prepared, n: int) -> np.ndarray:
    """fit.sample_weight's array: its shape checked before it is read, then every weight finite and 0 or more."""
    name = prepared.spec.fit.sample_weight
    try:
        mapped = np.load(prepared.base_dir / name, mmap_mode="r", allow_pickle=False)  # the header only, until used
    except (OSError, ValueError) as error:
        raise DataError(f"fit.sample_weight: cannot read '{name}' as a .npy array: {error}") from None
    if not isinstance(mapped, np.ndarray) or mapped.shape != (n,):
        shape = mapped.shape if isinstance(mapped, np.ndarray) else "an .npz archive"
        raise DataError(f"fit.sample_weight: '{name}' has shape {shape}, expected ({n},): one weight per training sample")
    try:
        weights = np.asarray(mapped, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise DataError(f"fit.sample_weight: '{name}' holds {mapped.dtype} values, expected numbers: {error}") from None
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        raise DataError(f"fit.sample_weight: '{name}' holds {weights[bad[0]]} at index {bad[0]} ({bad.size} bad weight(s) in all): "
                        "expected finite weights of 0 or more")
    return weights


def _class_weights(prepared: Prepared, arrays: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Each sample's fit.class_weight (1 for a class it does not name), looked up among the classes present."""
    output = next(o for o in prepared.plan.outputs.values() if o.loss is not None)  # the only one (modelspec.plan checks)
    by_class = {int(index): weight for index, weight in prepared.spec.fit.class_weight.items()}
    labels = np.asarray(arrays[output.name])
    sample_classes = labels.argmax(axis=-1) if labels.ndim > 1 and labels.shape[-1] > 1 else np.rint(labels.reshape(n, -1)[:, 0]).astype(np.int64)
    present, position = np.unique(sample_classes, return_inverse=True)
    weights = np.array([by_class.get(int(c), 1.0) for c in present], dtype=np.float32)
    return weights[position.reshape(-1)]


def _split_batches(prepared: Prepared, arrays: dict[str, np.ndarray], batch_size: int, device: torch.device, world: World | None = None) -> Batches:
    fixed = fixed_batch_size(prepared.graph)
    if fixed is not None and batch_size != fixed:
        raise DataError(f"fit.batch_size is {batch_size}, but the model fixes the batch size to {fixed} (batch_input_shape / batch_size)")
    if world is not None:  # batch_size rows a process: each takes its share of global batches of world.size * batch_size
        if len(next(iter(arrays.values()))) < world.size:
            raise DataError(f"{len(next(iter(arrays.values())))} sample(s) cannot be shared by {world.size} processes: give more data or fewer processes")
        return Batches(arrays, batch_size * world.size, device, drop_remainder=fixed is not None, shard=(world.rank, world.size))
    return Batches(arrays, batch_size, device, drop_remainder=fixed is not None)


def _step_arrays(engine: Engine, graph: Graph, batch: dict[str, torch.Tensor]):
    inputs = [batch[name] for name in graph.inputs]
    targets = {name: batch[name] for name in engine.losses}
    return inputs, targets, batch.get(WEIGHT_KEY)


def evaluate_batches(engine: Engine, graph: Graph, batches: Batches, world: World | None = None) -> dict[str, float]:
    engine.reset_metrics()
    engine.reset_states()
    for batch, size in batches.epoch():
        engine.test_step(*_step_arrays(engine, graph, batch), size)
    if world is not None:
        world.sum_metrics(engine)  # every process's shard: the totals of all the data
    return engine.logs()


class _NonFiniteLoss(Exception):
    pass


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


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
    """One `modelspec train`: data checked, run directory prepared, then the epoch loop."""

    def __init__(self, prepared: Prepared, run_dir: Path | None = None, *, resume: bool = False, seed: int = 0,
                 device: str = "auto", callbacks: list[Callback] = (), overwrite: bool = False, force: bool = False,
                 world: World | None = None):
        self.prepared, self.seed, self.resume, self.overwrite = prepared, seed, resume, overwrite
        # One of several processes (modelspec.training.distributed): only process 0 writes the run directory.
        self.world, self.is_main_process = world, world is None or world.is_main
        check_memory(prepared.graph, training=True, force=force, batch_size=prepared.spec.fit.batch_size)
        spec = prepared.spec
        if spec.compile is None or not any(o.loss is not None for o in prepared.plan.outputs.values()):
            raise SpecError([prepared.located.problem("training needs a loss: add compile: {loss: ...}", ("compile",))])
        if spec.data is None or spec.data.train is None:
            raise SpecError([prepared.located.problem("training needs data: add data: {train: ...} (a .npz, {dataset: digits} or {synthetic: {samples: N}})", ("data",))])
        self.device = world.device if world is not None else resolve_device(device)
        # Everything is checked before anything is written.
        train = load_arrays(prepared, spec.data.train, "train", force=force)
        weights = _sample_weights(prepared, train)
        if weights is not None:
            train = {**train, WEIGHT_KEY: weights}
        validation = load_arrays(prepared, spec.data.validation, "validation", force=force) if spec.data.validation is not None else None
        if validation is None and spec.fit.validation_split > 0:
            train, validation = split_validation(train, spec.fit.validation_split)
        self.test_arrays = load_arrays(prepared, spec.data.test, "test", force=force) if spec.data.test is not None else None
        self.train = _split_batches(prepared, train, spec.fit.batch_size, self.device, world)
        self.validation = _split_batches(prepared, validation, spec.fit.batch_size, self.device, world) if validation else None
        self.run_dir = self._run_dir(run_dir)
        self.checkpoint_path = self.run_dir / "checkpoint.pt"
        self.shuffle = False if is_stateful(prepared.graph) else spec.fit.shuffle
        self.engine = Engine(prepared.graph, prepared.plan, device=self.device, seed=seed, jit_compile=spec.fit.jit_compile,
                             mixed_precision=spec.fit.mixed_precision)
        if world is not None:
            world.seed(seed)
        self.generator = torch.Generator().manual_seed(seed)  # the same permutations in every process
        self.spec_callbacks = [build_callback(config) for config in spec.fit.callbacks]
        self.callbacks = [*self.spec_callbacks, *callbacks]
        for callback in self.callbacks:
            callback.run = self
        self.history: dict[str, list[float | None]] = {}  # columns of per-epoch rows: record_epoch
        self.start_epoch = spec.fit.initial_epoch
        self.stop_reason: str | None = None
        self._saved_epoch: int | None = None  # the epochs done that checkpoint.pt holds, once known
        self._digests: list[str] = []  # checkpoint.pt's sha256, newest first (two while a new one replaces the old)
        if resume:
            self._restore()

    # ----- run directory ------------------------------------------------------------------------
    def _run_dir(self, run_dir: Path | None) -> Path:
        if self.resume:
            if run_dir is None:
                raise UsageError("--resume needs --run-dir DIR: the directory of the run to continue")
            if not (run_dir / "checkpoint.pt").is_file():
                raise UsageError(f"--resume: '{run_dir}' holds no checkpoint.pt to continue from")
            rundir.check_no_links(run_dir)
            self._check_same_spec(run_dir)
        elif run_dir is None:
            return default_run_dir(self.prepared.spec.name)
        else:
            rundir.check_fresh(run_dir, self.overwrite)
        rundir.check_no_links(run_dir)
        return run_dir

    def _prepare_directory(self) -> None:
        """Create and lock the run directory, clear it (--overwrite) or what killed writes left, and write run.json."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self._lock_fd = rundir.lock(self.run_dir)
        except OSError as error:
            raise RunDirError(f"cannot create the run directory '{self.run_dir}': {error.strerror}") from None
        try:
            rundir.check_no_links(self.run_dir)
            if not self.resume:  # under the lock: a run that appeared meanwhile is never overwritten without --overwrite
                rundir.clear(self.run_dir, self.overwrite)
            remove_temporaries(self.run_dir)
            earlier = rundir.read_info(self.run_dir) if self.resume else None
            self._files = (self.run_dir, {p.name for p in self.run_dir.iterdir()}, rundir.listed_files(earlier))
            self._status("running")
        except BaseException as error:
            os.close(self._lock_fd)
            if isinstance(error, OSError):
                raise self._write_error(error) from None
            raise

    def _write_error(self, error: OSError) -> RunDirError:
        """A write the run directory refused, and what it keeps."""
        kept = (f"the previous checkpoint is kept (checkpoint.pt, {self._saved_epoch} epoch(s) done)" if self._saved_epoch is not None
                else "no checkpoint was written")
        where = f" ('{Path(error.filename).name}')" if error.filename else ""
        return RunDirError(f"cannot write to the run directory '{self.run_dir}'{where}: {error.strerror or error}; {kept}")

    def _spec_text(self) -> str:
        return yaml.safe_dump(self.prepared.located.data, sort_keys=False, allow_unicode=True)

    def _check_same_spec(self, run_dir: Path) -> None:
        try:
            saved = yaml.safe_load((run_dir / "spec.yaml").read_text())
        except (OSError, yaml.YAMLError) as error:
            raise UsageError(f"--resume: cannot read '{run_dir / 'spec.yaml'}': {error}") from None
        current = yaml.safe_load(self._spec_text())
        for data in (saved, current):
            if isinstance(data, dict) and isinstance(data.get("fit"), dict):
                data["fit"].pop("epochs", None)
        if saved != current:
            raise UsageError(f"--resume: the spec (with its --set overrides) differs from the one '{run_dir}' was started with; only fit.epochs may change")

    def _status(self, status: str, **extra: Any) -> None:
        if not self.is_main_process:
            return
        if self.world is not None:
            extra = {"processes": self.world.size, **extra}
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        if not hasattr(self, "_clock"):  # first call of this process: when the run (or this resumed part) started
            earlier: dict[str, Any] = {}
            if self.resume:
                try:
                    earlier = json.loads((self.run_dir / "run.json").read_text())
                except (OSError, ValueError):
                    pass
            earlier = earlier if isinstance(earlier, dict) else {}
            before = earlier.get("duration_s")
            self._clock = (str(earlier.get("started", now)), float(before) if isinstance(before, (int, float)) else 0.0, time.monotonic())
        started, before, since = self._clock
        times = {"started": started, "duration_s": round(before + time.monotonic() - since, 3)}
        if status != "running":
            times["ended"] = now
        info = {"status": status, "spec": str(self.prepared.path), "name": self.prepared.spec.name, "overrides": self.prepared.overrides,
                "seed": self.seed, "epochs_done": len(self.history.get("epoch", [])), "updated": now, **times,
                "files": rundir.created_since(*self._files), "sha256": {"checkpoint.pt": self._digests}, **extra}
        atomic_write_text(self.run_dir / "run.json", json.dumps(info, indent=2) + "\n")

    # ----- checkpoints --------------------------------------------------------------------------
    def weights_copy(self) -> dict[str, torch.Tensor]:
        return {name: tensor.detach().clone() for name, tensor in self.engine.module.state_dict().items()}

    def _save(self, epochs_done: int) -> None:
        process_rng = self.world.rng_states() if self.world is not None else None  # a collective: in every process
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
            **({"processes": self.world.size, "process_rng": process_rng} if self.world is not None else {}),
        }
        save_weights(self.engine.module, self.run_dir / "model.safetensors")
        atomic_write_text(self.run_dir / "history.csv", history_csv(self.history))
        atomic_write_stream(self.checkpoint_path, lambda handle: torch.save(state, handle), before_replace=self._record_checkpoint)
        self._saved_epoch = epochs_done

    def _record_checkpoint(self, temporary: Path) -> None:
        """Just before the new checkpoint replaces the old one: run.json records its sha256 (and the old one's, kept until then)."""
        self._digests = [sha256(temporary), *self._digests][:2]
        self._status("running")

    def _recorded_digests(self) -> list[str] | None:
        """The sha256 values run.json recorded for checkpoint.pt (None: a run that recorded none)."""
        info = rundir.read_info(self.run_dir) or {}
        recorded = info["sha256"].get("checkpoint.pt") if isinstance(info.get("sha256"), dict) else None
        return [digest for digest in recorded if isinstance(digest, str)] if isinstance(recorded, list) else None

    def _restore(self) -> None:
        """Check checkpoint.pt (its recorded sha256, its archive, every entry) before anything uses it, then load it."""
        path, module = self.checkpoint_path, self.engine.module
        self._digests = [check_recorded(path, self._recorded_digests())]
        check_archive(path, sum(t.numel() * t.element_size() for t in module.state_dict().values()))
        try:
            state = torch.load(path, map_location=self.device, weights_only=True)
        except Exception as error:  # torch.load(weights_only=True) refuses pickled code with UnpicklingError
            raise WeightsError(f"cannot resume from '{path}': {_first_line(error)} (not a checkpoint written by modelspec?)") from None
        check_state(path, state, module.state_dict(), self.engine.optimizer, len(self.spec_callbacks))
        processes, now = state.get("processes", 1), self.world.size if self.world is not None else 1
        if processes != now:
            raise UsageError(f"--resume: '{self.run_dir}' was trained with {processes} process(es) (a global batch of {processes} x fit.batch_size) "
                             f"and this run has {now}: resume it with --nproc {processes}")
        try:
            self._load_state(state)
        except (RuntimeError, KeyError, TypeError, ValueError) as error:  # what load_state_dict and set_state raise
            raise WeightsError(f"cannot resume from '{path}': {_first_line(error)} (not a checkpoint of this run?)") from None
        self._saved_epoch = state["epoch"]

    def _load_state(self, state: dict[str, Any]) -> None:
        """Put a checked checkpoint's states into the engine, the random generators and the callbacks."""
        self.engine.module.load_state_dict(state["model"])
        self.engine.optimizer.load_state_dict(state["optimizer"])
        if self.world is not None:  # each process its own streams (rank 0's GPU state is not every GPU's)
            self.world.restore_rng(state["process_rng"])
        else:
            torch.set_rng_state(state["rng"].cpu())
            if state["cuda_rng"]:
                torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
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
        # Several processes: a progress bar shows process 0's running values (the others are not asked).
        read_logs = self._read_logs if self.world is None else engine.logs
        train_step, input_names, target_names = engine.train_step, list(graph.inputs), list(engine.losses)
        for step, (batch, size) in enumerate(self.train.epoch(shuffle=self.shuffle, generator=self.generator, steps=steps)):
            train_step([batch[name] for name in input_names], {name: batch[name] for name in target_names}, batch.get(WEIGHT_KEY), size)
            for callback in per_batch:
                callback.on_batch_end(epoch, step, steps, read_logs)
        if self.world is not None:
            self.world.sum_metrics(engine)  # the epoch's totals over every process's shard
        logs = self._read_logs()
        if self.validation is not None and (epoch + 1) % self.prepared.spec.fit.validation_freq == 0:
            logs.update({f"val_{name}": value for name, value in evaluate_batches(engine, graph, self.validation, self.world).items()})
        return logs

    def fit(self) -> RunResult:
        if self.is_main_process:
            self._prepare_directory()
        try:
            with _sigterm_interrupts():
                return self._fit()
        except KeyboardInterrupt:
            self._final_status("interrupted")
            raise
        except OSError as error:
            self._final_status("failed", error=str(error))
            raise self._write_error(error) from None
        except BaseException as error:
            self._final_status("failed", error=str(error))
            raise
        finally:
            if self.is_main_process:
                os.close(self._lock_fd)

    def _final_status(self, status: str, **extra: Any) -> None:
        """Record how the run ended, if the directory can still be written (it may be the failure)."""
        try:
            self._status(status, **extra)
        except OSError:
            pass

    def _fit(self) -> RunResult:
        if self.world is not None:  # a collective: once process 0 has prepared the run directory
            self.world.data_parallel(self.engine, self.train)
        if not self.resume:
            if self.is_main_process:
                atomic_write_text(self.run_dir / "spec.yaml", self._spec_text())
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
        if self.test_arrays is not None and status == "finished":
            batches = _split_batches(self.prepared, self.test_arrays, self.prepared.spec.fit.batch_size, self.device, self.world)
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
        if not str(data).lower().endswith(".npz"):
            raise DataError(f"--data '{data}': expected an .npz file of arrays named after the model's inputs (and outputs)")
        return str(Path(data).resolve()), "test"
    for split in splits:
        source = getattr(prepared.spec.data, split, None) if prepared.spec.data else None
        if source is not None:
            return source, split
    raise DataError(f"no data: give --data FILE.npz, or data.{' / data.'.join(splits)} in the spec")


def evaluate(prepared: Prepared, weights: str | Path, data: str | None = None, device: str = "auto") -> dict[str, float]:
    """Loss and metrics of trained weights on --data or the spec's test (else validation) data."""
    if not prepared.plan.outputs or all(o.loss is None for o in prepared.plan.outputs.values()):
        raise SpecError([prepared.located.problem("evaluation needs a loss: add compile: {loss: ...}", ("compile",))])
    resolve_device(device)  # a bad --device before any data is read
    source, split = _source(prepared, data, "test", "validation")
    arrays = load_arrays(prepared, source, split)
    engine = _engine_with_weights(prepared, weights, device)
    batches = _split_batches(prepared, arrays, prepared.spec.fit.batch_size, engine.device)
    return evaluate_batches(engine, prepared.graph, batches)


def predict(prepared: Prepared, weights: str | Path, data: str, output: str | Path, device: str = "auto") -> dict[str, np.ndarray]:
    """Outputs for --data's inputs, saved to `output` (.npz, arrays named after the outputs; `y` for a sequential model)."""
    if not str(output).lower().endswith(".npz"):
        raise DataError(f"--output '{output}': expected a file name ending in .npz")
    resolve_device(device)
    source, split = _source(prepared, data)
    arrays = load_arrays(prepared, source, split, targets=False)
    engine = _engine_with_weights(prepared, weights, device)
    batches = _split_batches(prepared, arrays, prepared.spec.fit.batch_size, engine.device)
    engine.reset_states()
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in engine.output_names}
    for batch, _ in batches.epoch():
        for name, value in engine.predict_step([batch[n] for n in prepared.graph.inputs]).items():
            chunks[name].append(value.cpu().numpy())
    results = {name: np.concatenate(parts) for name, parts in chunks.items()}
    try:
        atomic_write_stream(output, lambda handle: np.savez(handle, **results))
    except OSError as error:
        raise UsageError(f"--output '{output}': cannot write it: {error.strerror or error}; nothing was written") from None
    return results


__all__ = ["Problem", "RunResult", "TrainingRun", "evaluate", "predict"]
