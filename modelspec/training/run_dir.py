"""The run directory: recognising a run, its lock, what --overwrite may remove, and `RunDirectory`, one run's
directory as training writes it (fresh, overwritten or resumed; spec.yaml, history.csv, model.safetensors,
checkpoint.pt and run.json, each written atomically).

A folder is a modelspec run when it holds a run.json that modelspec train wrote (a JSON object with its
status, name, spec and seed). run.json lists, under "files", the entries the run created; --overwrite
removes those, the run files below and atomic_write's leftovers, and nothing else. A folder that is
neither empty nor a run is never touched. Links in a run directory are never followed: the lock is
opened with O_NOFOLLOW, and removing a link removes the link.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from modelspec.errors import ModelspecError, UsageError
from modelspec.files import TEMPORARY_NAME, atomic_write_text, remove_temporaries
from modelspec.training.checkpoint import read_checkpoint, sha256, write_checkpoint
from modelspec.training.history import history_csv
from modelspec.weights import save_weights

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: The files every run writes (besides its callbacks').
RUN_FILES = ("spec.yaml", "history.csv", "model.safetensors", "checkpoint.pt", "run.json")
LOCK = ".lock"
STATUSES = ("running", "finished", "interrupted", "stopped", "failed")


class RunDirError(ModelspecError):
    """The run directory cannot be created or written (full disk, not writable, ...)."""


def read_info(run_dir: Path) -> dict[str, Any] | None:
    """run.json as modelspec train writes it, or None when the folder holds none (or another program's)."""
    path = run_dir / "run.json"
    try:
        if path.is_symlink():
            return None
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    marks = isinstance(info, dict) and info.get("status") in STATUSES and all(isinstance(info.get(k), str) for k in ("name", "spec"))
    return info if marks and isinstance(info.get("seed"), int) else None


def leftovers(run_dir: Path) -> set[str]:
    """Entries that hold nothing of a run: the lock and atomic_write's temporary files."""
    return {p.name for p in run_dir.iterdir() if p.name == LOCK or TEMPORARY_NAME.fullmatch(p.name)}


def check_fresh(run_dir: Path, overwrite: bool) -> None:
    """UsageError unless `run_dir` is new, empty, or (with overwrite) a modelspec run."""
    if run_dir.is_symlink() and not run_dir.exists():
        raise UsageError(f"--run-dir '{run_dir}' is a broken symbolic link")
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"--run-dir '{run_dir}' is a file, not a directory")
    if not run_dir.is_dir() or {p.name for p in run_dir.iterdir()} <= leftovers(run_dir):
        return
    if read_info(run_dir) is None:
        raise UsageError(f"'{run_dir}' is not empty and is not a modelspec run directory (it holds no run.json written by modelspec train): "
                         "nothing was changed; choose a new or empty --run-dir")
    if not overwrite:
        raise UsageError(f"'{run_dir}' already holds a run: continue it with --resume, replace it with --overwrite, or choose another --run-dir")


def own_entries(run_dir: Path, info: dict[str, Any]) -> list[Path]:
    """The entries of `run_dir` a run wrote: the run files, those run.json lists, and temporary files."""
    names = {*RUN_FILES, *listed_files(info)} - {LOCK}
    return [p for p in run_dir.iterdir() if p.name in names or TEMPORARY_NAME.fullmatch(p.name)]


def clear(run_dir: Path, overwrite: bool) -> None:
    """Under the lock: check again that the folder is fresh or a run, then remove the run's own entries."""
    check_fresh(run_dir, overwrite)
    info = read_info(run_dir)
    for path in own_entries(run_dir, info) if info is not None else []:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def lock(run_dir: Path) -> int:
    """Open and lock `run_dir/.lock` (never through a link); the descriptor. UsageError when another run holds it."""
    import fcntl

    path = run_dir / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise RunDirError(f"'{path}' is a symbolic link: modelspec never writes through a link in a run directory; remove it") from None
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UsageError(f"another modelspec train is using '{run_dir}' (it holds the run's lock); nothing was changed") from None
    return fd


def check_no_links(run_dir: Path) -> None:
    """RunDirError naming the symbolic links inside `run_dir` (modelspec makes none, and writes through none)."""
    links = [Path(top, name) for top, folders, files in os.walk(run_dir) for name in (*folders, *files) if Path(top, name).is_symlink()]
    if links:
        named = ", ".join(f"'{link}'" for link in links[:5]) + (f" and {len(links) - 5} more" if len(links) > 5 else "")
        raise RunDirError(f"the run directory '{run_dir}' holds symbolic links ({named}): modelspec never reads or writes through a link "
                          "in a run directory; remove them; nothing was changed")


def listed_files(info: dict[str, Any] | None) -> list[str]:
    """The entries run.json lists as the run's (plain names only)."""
    listed = info.get("files") if info is not None else None
    return [name for name in listed if isinstance(name, str) and _plain_name(name)] if isinstance(listed, list) else []


def created_since(run_dir: Path, before: set[str], recorded: list[str]) -> list[str]:
    """The entries a run has created: those recorded earlier and those that were not there when it took the lock."""
    now = {p.name for p in run_dir.iterdir()} - leftovers(run_dir)
    return sorted(set(recorded) | (now - before))


def _plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name and os.sep not in name


def default_run_dir(name: str) -> Path:
    """runs/<name>-<timestamp>, with -2, -3, ... when that exists."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = Path("runs") / f"{name}-{stamp}"
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = Path("runs") / f"{name}-{stamp}-{suffix}"
    return run_dir


def choose(run_dir: Path | None, *, resume: bool, overwrite: bool, name: str, spec_texts: Callable[[Path], Sequence[str]]) -> Path:
    """The run directory to train in, checked before anything is written: a run to continue (--resume, with the
    same spec: its spec.yaml is one of `spec_texts(run_dir)`), a fresh or empty folder, a run to --overwrite, or
    runs/<name>-<timestamp>."""
    if resume:
        if run_dir is None:
            raise UsageError("--resume needs --run-dir DIR: the directory of the run to continue")
        if not (run_dir / "checkpoint.pt").is_file():
            raise UsageError(f"--resume: '{run_dir}' holds no checkpoint.pt to continue from")
        check_no_links(run_dir)
        _check_same_spec(run_dir, spec_texts(run_dir))
    elif run_dir is None:
        return default_run_dir(name)
    else:
        check_fresh(run_dir, overwrite)
    check_no_links(run_dir)
    return run_dir


def _without_epochs(text: str) -> Any:
    data = yaml.safe_load(text)
    if isinstance(data, dict) and isinstance(data.get("fit"), dict):
        data["fit"].pop("epochs", None)
    return data


def _check_same_spec(run_dir: Path, spec_texts: Sequence[str]) -> None:
    """UsageError unless run_dir/spec.yaml is one of `spec_texts` (as data), but for fit.epochs."""
    try:
        saved = _without_epochs((run_dir / "spec.yaml").read_text())
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"--resume: cannot read '{run_dir / 'spec.yaml'}': {error}") from None
    if all(saved != _without_epochs(text) for text in spec_texts):
        raise UsageError(f"--resume: the spec (with its --set overrides) differs from the one '{run_dir}' was started with; only fit.epochs may change")


class RunDirectory:
    """One run's directory, as process 0 writes it: locked while training, run.json kept current (status, times,
    the entries the run created, checkpoint.pt's sha256), and each epoch's weights, history and checkpoint.

    `identity` is what run.json records of the run (spec, name, overrides, seed); `processes` the size of a
    world of several processes (None: one).
    """

    def __init__(self, path: Path, *, resume: bool, overwrite: bool, identity: dict[str, Any], processes: int | None = None):
        self.path, self.resume, self.overwrite = path, resume, overwrite
        self.identity, self.processes = identity, processes
        self.checkpoint = path / "checkpoint.pt"
        self.saved_epoch: int | None = None  # the epochs done that checkpoint.pt holds, once known
        self.digests: list[str] = []  # checkpoint.pt's sha256, newest first (two while a new one replaces the old)
        self._lock_fd: int | None = None
        self._files: tuple[Path, set[str], list[str]] | None = None
        self._clock: tuple[str, float, float] | None = None

    def open(self, epochs_done: int) -> None:
        """Create and lock the directory, clear it (--overwrite) or what killed writes left, and write run.json."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock_fd = lock(self.path)
        except OSError as error:
            raise RunDirError(f"cannot create the run directory '{self.path}': {error.strerror}") from None
        try:
            check_no_links(self.path)
            if not self.resume:  # under the lock: a run that appeared meanwhile is never overwritten without --overwrite
                clear(self.path, self.overwrite)
            remove_temporaries(self.path)
            earlier = read_info(self.path) if self.resume else None
            self._files = (self.path, {p.name for p in self.path.iterdir()}, listed_files(earlier))
            self.status("running", epochs_done)
        except BaseException as error:
            self.close()
            if isinstance(error, OSError):
                raise self.write_error(error) from None
            raise

    def close(self) -> None:
        """Release the lock."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def write_error(self, error: OSError) -> RunDirError:
        """A write the run directory refused, and what it keeps."""
        kept = (f"the previous checkpoint is kept (checkpoint.pt, {self.saved_epoch} epoch(s) done)" if self.saved_epoch is not None
                else "no checkpoint was written")
        where = f" ('{Path(error.filename).name}')" if error.filename else ""
        return RunDirError(f"cannot write to the run directory '{self.path}'{where}: {error.strerror or error}; {kept}")

    def write_spec(self, text: str) -> None:
        atomic_write_text(self.path / "spec.yaml", text)

    def status(self, status: str, epochs_done: int, **extra: Any) -> None:
        """Write run.json: `status`, the run's identity, times, the entries it created and checkpoint.pt's sha256."""
        if self.processes is not None:
            extra = {"processes": self.processes, **extra}
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        if self._clock is None:  # first call of this process: when the run (or this resumed part) started
            earlier: dict[str, Any] = {}
            if self.resume:
                try:
                    earlier = json.loads((self.path / "run.json").read_text())
                except (OSError, ValueError):
                    pass
            earlier = earlier if isinstance(earlier, dict) else {}
            before = earlier.get("duration_s")
            self._clock = (str(earlier.get("started", now)), float(before) if isinstance(before, (int, float)) else 0.0, time.monotonic())
        started, before, since = self._clock
        times = {"started": started, "duration_s": round(before + time.monotonic() - since, 3)}
        if status != "running":
            times["ended"] = now
        info = {"status": status, **self.identity, "epochs_done": epochs_done, "updated": now, **times,
                "files": created_since(*self._files), "sha256": {"checkpoint.pt": self.digests}, **extra}
        atomic_write_text(self.path / "run.json", json.dumps(info, indent=2) + "\n")

    def save(self, epochs_done: int, state: dict[str, Any], module: torch.nn.Module, history: dict[str, list[float | None]]) -> None:
        """model.safetensors, history.csv, then checkpoint.pt (`state`, after `epochs_done` epochs), its sha256 in run.json first."""
        save_weights(module, self.path / "model.safetensors")
        atomic_write_text(self.path / "history.csv", history_csv(history))
        done = len(history.get("epoch", []))

        def record(temporary: Path) -> None:  # just before the new checkpoint replaces the old one
            self.digests = [sha256(temporary), *self.digests][:2]
            self.status("running", done)

        write_checkpoint(self.checkpoint, state, before_replace=record)
        self.saved_epoch = epochs_done

    def read_checkpoint(self, model: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer, callbacks: int,
                        device: torch.device) -> dict[str, Any]:
        """checkpoint.pt checked against the sha256 run.json recorded, its archive and every entry, then loaded."""
        state, digest = read_checkpoint(self.checkpoint, self._recorded_digests(), model, optimizer, callbacks, device)
        self.digests = [digest]
        return state

    def _recorded_digests(self) -> list[str] | None:
        """The sha256 values run.json recorded for checkpoint.pt (None: a run that recorded none)."""
        info = read_info(self.path) or {}
        recorded = info["sha256"].get("checkpoint.pt") if isinstance(info.get("sha256"), dict) else None
        return [digest for digest in recorded if isinstance(digest, str)] if isinstance(recorded, list) else None
