"""The spec's pydantic validator, kept across processes: `validate` and `summary` answer without rebuilding it.

Pydantic builds a model's validator in Python: for a spec's schema (its layer types, optimizers,
losses, metrics, callbacks and data sources) that is about 0.1 s, a third of a `validate`. The
built validator pickles as its core schema, by reference to the classes and functions it calls, so
a later process restores it in a few milliseconds, like Python's own bytecode cache:

    validator = cache.restore("spec", key)          # None: build it, then cache.store("spec", key, validator)

The key covers everything the schema is built from: Python's, pydantic's and pydantic-core's
versions, the path, size and modification time of every modelspec module loaded (layer modules among
them) and the caller's own parts (modelspec.schema.build: every registry's member names). Specs whose
plugins register layer types are not cached (their modules are not ours to fingerprint).

The cache lives in $MODELSPEC_CACHE_DIR, else $XDG_CACHE_HOME/modelspec, else ~/.cache/modelspec;
MODELSPEC_CACHE_DIR=off turns it off. A file is loaded only if this user owns it and nobody else can
write it or its folder (a pickle runs code when loaded). Any failure to read or write is silent: the
cache only saves time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

import pydantic
import pydantic_core

# Imported here, not on a miss: the key covers every loaded modelspec module, so a module loaded only
# by store() would make the next key of the same process differ between a cold and a warm run.
from modelspec.files import atomic_write

#: Files kept; the oldest are removed beyond this (each is 50-300 KB).
MAX_FILES = 64


def cache_dir() -> Path | None:
    """Where cached schemas live, or None when caching is off."""
    configured = os.environ.get("MODELSPEC_CACHE_DIR")
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "none") else Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "modelspec"


def cache_key(parts: Iterable[str]) -> str:
    """A digest of the versions, the loaded modelspec modules' files and the caller's `parts`."""
    lines = [sys.version, pydantic.VERSION, pydantic_core.__version__, *parts]
    for name, module in sorted(sys.modules.items()):
        if name == "modelspec" or name.startswith("modelspec."):
            file = getattr(module, "__file__", None)
            if file:
                try:
                    info = os.stat(file)
                except OSError:
                    continue
                lines.append(f"{name} {file} {info.st_size} {info.st_mtime_ns}")  # the path: two installs share a cache
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


def _path(name: str, key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{name}-{key}.pickle"


def _trusted(path: Path) -> bool:
    """Owned by this user and writable by nobody else, the file and its folder."""
    try:
        for item in (path, path.parent):
            info = item.stat()
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return False
    except OSError:
        return False
    return True


def restore(name: str, key: str) -> pydantic_core.SchemaValidator | None:
    """The validator `name` cached under `key`, or None if there is none (or it cannot be read)."""
    path = _path(name, key)
    if path is None or not path.is_file() or not _trusted(path):
        return None
    try:
        with open(path, "rb") as handle:
            validator = pickle.load(handle)
    except Exception:  # noqa: BLE001 (a truncated or stale file, whatever the error: rebuild and overwrite it)
        return None
    return validator if isinstance(validator, pydantic_core.SchemaValidator) else None


def store(name: str, key: str, validator: pydantic_core.SchemaValidator) -> None:
    """Save a built validator as `name` under `key` (atomically; silently not if anything fails)."""
    path = _path(name, key)
    if path is None:
        return
    try:
        payload = pickle.dumps(validator, protocol=pickle.HIGHEST_PROTOCOL)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(path, lambda temporary: temporary.write_bytes(payload))
        _prune(path.parent)
    except Exception:  # noqa: BLE001 (unpicklable: a plugin's closure; a read-only home, a full disk: no cache, same result)
        return


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.pickle"), key=lambda item: item.stat().st_mtime, reverse=True)
    for old in files[MAX_FILES:]:
        old.unlink(missing_ok=True)
