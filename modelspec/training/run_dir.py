"""The run directory as a place on disk: recognising a run, its lock, and what --overwrite may remove.

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
from pathlib import Path
from typing import Any

from modelspec.errors import ModelspecError, UsageError
from modelspec.files import TEMPORARY_NAME

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
