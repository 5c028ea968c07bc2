"""Data-parallel training on torch.distributed: the process group, data shards, reductions, launch.

`modelspec train SPEC --nproc N` is `torchrun --standalone --nproc-per-node N -m modelspec train SPEC`:
`launch` starts N copies of the command through torch's elastic launcher, and each of them finds
torch.distributed's variables (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) with
`from_environment`, which joins the process group (gloo on CPU, nccl on CUDA, one GPU a process).

What a run of N processes does, each with `fit.batch_size` B rows a step (as Keras and torch DDP):
- every process draws the same seeded permutation each epoch; global batch k is its rows
  [k*N*B, (k+1)*N*B) and process r takes the r-th contiguous share of it (`Batches(shard=...)`), so
  N processes of batch B see the batches of one process of batch N*B. A last global batch of
  m < N*B rows is split in N near-equal shares (one with fewer rows than processes is left out);
- DistributedDataParallel all-reduces the gradients, each process's weighted by its share of the
  global batch (1/N for a full batch): the update is the one of the whole global batch;
- losses and metrics accumulate on each process and their totals and counts are summed over the
  processes at the end of an epoch (`sum_metrics`), so the reported values are those of all rows;
  validation and test data are sharded and summed the same way;
- process 0 writes the run directory and prints; the others write and print nothing.

One process is a world of size 1 (`SingleProcess`: rank 0, its collectives do nothing, no DDP), so
training never asks whether it has a world.

Example (what `modelspec train` does in each process):
    world = from_environment("auto")          # SingleProcess("auto") for a single process
    run = TrainingRun(prepared, run_dir, world=world)
    run.fit()
    world.close()
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import signal
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist

from modelspec.data.batches import Batches
from modelspec.errors import DataError, UsageError
from modelspec.metrics.runtime import Metric, sum_states
from modelspec.training.compile_cache import use_compile_cache
from modelspec.training.device import resolve_device

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from modelspec.training.engine import Engine

#: torch.distributed's variables that torchrun and the elastic launcher set in every process.
REQUIRED = ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass
class World:
    """This process's place in a process group of `size` > 1 processes (SingleProcess: a world of one)."""

    rank: int
    size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Process 0: the one that writes the run directory and prints."""
        return self.rank == 0

    # ----- training ---------------------------------------------------------------------------
    def batches(self, arrays: dict[str, np.ndarray], batch_size: int, *, drop_remainder: bool) -> Batches:
        """`arrays` on this process's device: its share of global batches of size * batch_size rows (batch_size rows a process)."""
        samples = len(next(iter(arrays.values())))
        if samples < self.size:
            raise DataError(f"{samples} sample(s) cannot be shared by {self.size} processes: give more data or fewer processes")
        return Batches(arrays, batch_size * self.size, self.device, drop_remainder=drop_remainder, shard=(self.rank, self.size))

    def data_parallel(self, engine: Engine, batches: Batches) -> None:
        """Wrap the engine's module in DistributedDataParallel (a collective: every process calls it).

        DDP broadcasts process 0's weights and buffers, then all-reduces the gradients in backward;
        each process's gradient is weighted by its share of the global batch (`batches.share`).
        Outputs without a loss leave weights without gradients: DDP looks for them then.
        """
        from torch.nn.parallel import DistributedDataParallel

        if not any(p.requires_grad for p in engine.module.parameters()):
            return  # nothing to all-reduce
        unused = any(output.loss is None for output in engine.plan.outputs.values())

        def wrap(module: torch.nn.Module) -> torch.nn.Module:
            ids = [self.device.index] if self.device.type == "cuda" else None
            # DistributedDataParallel imports torch._dynamo, whose disk cache creates inductor's cache folder
            # ($TMPDIR/torchinductor_<user> by default) at import: modelspec's cache folder instead.
            use_compile_cache()
            parallel = DistributedDataParallel(module, device_ids=ids, find_unused_parameters=unused)
            parallel.register_comm_hook(batches, _weighted_allreduce)
            return parallel

        engine.parallel(wrap)

    def sum_metrics(self, engine: Engine) -> None:
        """Replace the loss and metric accumulators of every process by their sums over the processes."""
        metrics: list[Metric] = [*engine.trackers.values(), *(m for named in engine.metrics.values() for _, m in named)]
        sum_states(metrics, self._sum)

    def _sum(self, vector: torch.Tensor) -> torch.Tensor:
        """The sum over processes, added in rank order: the same bits on every process."""
        vector = vector.to(self.device)
        gathered = [torch.empty_like(vector) for _ in range(self.size)]
        dist.all_gather(gathered, vector)
        return torch.stack(gathered).sum(0)

    def seed(self, seed: int) -> None:
        """Give processes 1..N-1 random streams of their own (dropout, noise); process 0 keeps the run's."""
        if self.rank:
            torch.manual_seed(seed + 1_000_003 * self.rank)

    def rng_states(self) -> list[dict[str, torch.Tensor | None]]:
        """Every process's random states for a checkpoint, in rank order: {"cpu": ..., "cuda": its own GPU's
        or None}. A collective: each process draws its dropout masks on its own device from its own stream."""
        own = {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None}
        states: list[Any] = [None] * self.size
        dist.all_gather_object(states, own)
        return states

    def checkpoint_rng(self) -> dict[str, Any]:
        """A checkpoint's entries for the random streams beside process 0's "rng" and "cuda_rng": the number of
        processes and each one's states (a collective)."""
        return {"processes": self.size, "process_rng": self.rng_states()}

    def restore_checkpoint_rng(self, state: dict[str, Any]) -> None:
        """Set this process's random states from a checkpoint: each process its own streams (rank 0's GPU state is not every GPU's)."""
        self.restore_rng(state["process_rng"])

    def restore_rng(self, states: list[Any]) -> None:
        """Set this process's random states from `rng_states()` saved in a checkpoint (CPU-only tensors in older ones)."""
        own = states[self.rank]
        cpu, cuda = (own["cpu"], own.get("cuda")) if isinstance(own, dict) else (own, None)
        torch.set_rng_state(cpu.cpu())
        if cuda is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(cuda.cpu(), self.device)

    # ----- agreeing, ending -------------------------------------------------------------------
    def agree(self, error: BaseException | None) -> tuple[int, str] | None:
        """Each process's outcome of a step that may fail on some (the checks before training):
        the first failure as (rank, message), or None when all succeeded. A collective."""
        outcomes: list[Any] = [None] * self.size
        dist.all_gather_object(outcomes, None if error is None else str(error))
        return next(((rank, text) for rank, text in enumerate(outcomes) if text is not None), None)

    def barrier(self) -> None:
        dist.barrier()

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()


class SingleProcess(World):
    """A world of one process: rank 0 of 1, whose collectives do nothing (no process group, no DDP).

    Its checkpoints keep the single-process format: the random states are "rng" and "cuda_rng" alone.
    The device is resolved when first used, so a bad --device is reported where one process reports it.
    """

    def __init__(self, device: str | torch.device = "auto"):
        self.rank, self.size, self.local_rank = 0, 1, 0
        self._requested = device

    @functools.cached_property
    def device(self) -> torch.device:  # type: ignore[override]
        requested = self._requested
        return requested if isinstance(requested, torch.device) else resolve_device(requested)

    def batches(self, arrays: dict[str, np.ndarray], batch_size: int, *, drop_remainder: bool) -> Batches:
        return Batches(arrays, batch_size, self.device, drop_remainder=drop_remainder)

    def data_parallel(self, engine: Engine, batches: Batches) -> None:
        pass  # nothing to all-reduce with

    def sum_metrics(self, engine: Engine) -> None:
        pass  # this process's totals are all of them

    def rng_states(self) -> list[dict[str, torch.Tensor | None]]:
        return [{"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None}]

    def checkpoint_rng(self) -> dict[str, Any]:
        return {}  # the checkpoint's "rng" and "cuda_rng" are this process's

    def restore_checkpoint_rng(self, state: dict[str, Any]) -> None:
        torch.set_rng_state(state["rng"].cpu())
        if state["cuda_rng"]:
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])

    def agree(self, error: BaseException | None) -> tuple[int, str] | None:
        return None if error is None else (0, str(error))

    def barrier(self) -> None:
        pass

    def close(self) -> None:
        pass


def _weighted_allreduce(batches, bucket):  # no annotations: DDP checks them, and here they would be strings
    """DDP communication hook: sum over processes of each one's gradients times its share of the batch
    (a Future of the bucket's tensor)."""
    buffer = bucket.buffer()
    buffer.mul_(batches.share)
    return dist.all_reduce(buffer, async_op=True).get_future().then(lambda done: done.value()[0])


def in_launched_process() -> bool:
    """True in a process started by torchrun or `--nproc` (torch.distributed's WORLD_SIZE is set)."""
    return "WORLD_SIZE" in os.environ


def from_environment(device: str) -> World:
    """Join the process group torchrun (or `--nproc`) started this process in; SingleProcess(device) for one process.

    The backend is gloo on CPU and nccl on CUDA, where process LOCAL_RANK uses GPU LOCAL_RANK.
    """
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise UsageError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not a number of processes") from None
    if size <= 1:
        return SingleProcess(device)
    missing = [name for name in REQUIRED if name not in os.environ]
    if missing:
        raise UsageError(f"WORLD_SIZE={size} is set but not {', '.join(missing)}: start the processes with torchrun or modelspec train --nproc")
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    chosen = resolve_device(device)
    if chosen.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise UsageError(f"process {rank} (LOCAL_RANK {local_rank}) has no GPU of its own: {torch.cuda.device_count()} CUDA device(s) here; use at most one process a GPU")
        chosen = torch.device("cuda", local_rank)
        torch.cuda.set_device(chosen)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if chosen.type == "cuda" else "gloo", rank=rank, world_size=size,
                                device_id=chosen if chosen.type == "cuda" else None)
    return World(rank, size, local_rank, chosen)


# ----- failures, reported to the launcher -----------------------------------------------------
def record_failure(error: BaseException | None, kind: str) -> bool:
    """Write why this process fails to the launcher's error file (TORCHELASTIC_ERROR_FILE), in the format
    of torch.distributed.elastic's ErrorHandler plus modelspec's own fields; False when there is none.

    kind: "error" (a failure of this process), "collective" (a collective failed: another process died),
    or "reported" (process 0 has printed why every process stops).
    """
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if not path:
        return False
    text = "" if error is None else (str(error) if kind == "reported" or _is_modelspec(error) else f"{type(error).__name__}: {error}")
    stack = "" if error is None or _is_modelspec(error) else traceback.format_exc()
    now = time.time()
    data = {"message": {"message": text or kind, "extraInfo": {"py_callstack": stack, "timestamp": str(int(now)),
                                                               "modelspec": {"kind": kind, "text": text, "traceback": stack, "time": now}}}}
    try:
        with open(path, "w") as handle:
            json.dump(data, handle)
    except OSError:
        return False
    return True


#: What gloo and nccl say when another process of the group has gone (an error may reach us as a plain
#: RuntimeError, through a communication hook's future).
_PEER_GONE = ("Connection closed by peer", "Connection reset by peer", "remote worker crashing", "Broken pipe", "communicator was aborted")


def failure_kind(error: BaseException) -> str:
    """ "collective" for a collective that failed (another process died first), else "error"."""
    if isinstance(error, dist.DistError) or any(text in str(error) for text in _PEER_GONE):
        return "collective"
    return "error"


def _is_modelspec(error: BaseException) -> bool:
    from modelspec.errors import ModelspecError

    return isinstance(error, ModelspecError)


# ----- launching ------------------------------------------------------------------------------
class WorkersFailed(Exception):
    """A process of a multi-process run failed. `message` is None when process 0 has already said why;
    `details` is the failing process's traceback, if any."""

    def __init__(self, exit_code: int, message: str | None = None, details: str | None = None):
        super().__init__(message or f"exit code {exit_code}")
        self.exit_code, self.message, self.details = exit_code, message, details


def launch(nproc: int, args: Sequence[str]) -> None:
    """Run `python -m modelspec ARGS` in `nproc` processes on this machine through torch's elastic
    launcher, as `torchrun --standalone --nproc-per-node NPROC -m modelspec ARGS` does.

    Returns when all processes exit 0. When one fails the launcher stops the others (no hang) and
    this raises WorkersFailed; Ctrl-C is passed to every process and raises KeyboardInterrupt.
    OMP_NUM_THREADS, if not set, is the CPUs shared among the processes.
    """
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs, SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = os.environ.get("OMP_NUM_THREADS") or str(max(1, cpus // nproc))
    with tempfile.TemporaryDirectory(prefix="modelspec-launch-") as logs, _quiet_launcher(), \
            _environment(OMP_NUM_THREADS=threads), _signal_handlers_kept():
        config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=str(uuid.uuid4()),
                              rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0, monitor_interval=0.1,
                              logs_specs=DefaultLogsSpecs(log_dir=logs))
        try:
            elastic_launch(config, sys.executable)("-u", "-m", "modelspec", *args)
        except ChildFailedError as error:
            raise _failure(error.failures, nproc) from None
        except SignalException as error:
            if error.sigval == signal.SIGINT:
                raise KeyboardInterrupt from None
            raise WorkersFailed(128 + int(error.sigval), f"stopped by {error.sigval.name}: every process was stopped") from None


def _about(failure: Any) -> dict[str, Any]:
    message = failure.error_file_data.get("message")
    extra = message.get("extraInfo", {}) if isinstance(message, dict) else {}
    about = extra.get("modelspec")
    return about if isinstance(about, dict) else {}


def _failure(failures: dict[int, Any], nproc: int) -> WorkersFailed:
    """The root cause among the failed processes: an error of a process's own, then a process killed by a
    signal (out of memory: SIGKILL), then an exit process 0 has reported, then a failed collective; the
    launcher stops the others with SIGTERM, so a SIGTERM comes last."""

    def first(kind: Callable[[int, Any], bool]) -> tuple[int, Any] | None:
        found = sorted(((r, f) for r, f in failures.items() if kind(r, f)), key=lambda item: (_about(item[1]).get("time", item[1].timestamp), item[0]))
        return found[0] if found else None

    def failed(rank: int, failure: Any) -> WorkersFailed:
        about = _about(failure)
        return WorkersFailed(failure.exitcode if failure.exitcode > 0 else 1, f"process {rank} of {nproc} failed: {about.get('text')}", about.get("traceback") or None)

    def killed(rank: int, failure: Any) -> WorkersFailed:
        return WorkersFailed(1, f"process {rank} of {nproc} was killed by {failure.signal_name()}; the other processes were stopped")

    found = first(lambda r, f: _about(f).get("kind") == "error")
    if found:
        return failed(*found)
    found = first(lambda r, f: f.exitcode < 0 and -f.exitcode != signal.SIGTERM)
    if found:
        return killed(*found)
    if 0 in failures and failures[0].exitcode > 0 and not _about(failures[0]):  # process 0 exits non-zero only after saying why
        return WorkersFailed(failures[0].exitcode)
    found = first(lambda r, f: _about(f).get("kind") == "reported")
    if found:
        return WorkersFailed(found[1].exitcode)
    found = first(lambda r, f: _about(f).get("kind") == "collective")
    if found:
        return failed(*found)
    found = first(lambda r, f: f.exitcode < 0)
    if found:
        return killed(*found)
    rank, failure = min(failures.items())
    return WorkersFailed(failure.exitcode, f"process {rank} of {nproc} exited with code {failure.exitcode}")


@contextlib.contextmanager
def _quiet_launcher() -> Iterator[None]:
    """The launcher's own log lines (closing signals, failure banners) stay out of the output: modelspec reports."""
    loggers = [logging.getLogger(name) for name in ("torch.distributed.elastic", "torch.distributed.launcher")]
    saved = [(logger.propagate, list(logger.handlers)) for logger in loggers]
    for logger in loggers:
        logger.propagate = False
        logger.handlers = [logging.NullHandler()]
    try:
        yield
    finally:
        for logger, (propagate, handlers) in zip(loggers, saved):
            logger.propagate, logger.handlers = propagate, handlers


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """The launcher installs handlers for SIGINT, SIGTERM, ...: put the caller's back afterwards."""
    names = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
    saved = {sig: signal.getsignal(sig) for sig in (getattr(signal, name) for name in names if hasattr(signal, name))}
    variable = os.environ.get("TORCHELASTIC_SIGNALS_TO_HANDLE")
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)
        if variable is None:
            os.environ.pop("TORCHELASTIC_SIGNALS_TO_HANDLE", None)
        else:
            os.environ["TORCHELASTIC_SIGNALS_TO_HANDLE"] = variable
