"""Files written atomically: a temporary file in the same folder, fsynced, then renamed over the target,
so a crash at any moment leaves either the old file or the new one, never half of one. No torch here:
the schema cache writes through it while validating.

    atomic_write_text("runs/mnist/history.csv", text)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call write(temporary_path), then fsync and rename it to `path`."""
    import tempfile  # here: validate imports this module for the schema cache, and writes only on a cache miss

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(temporary))
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda temporary: temporary.write_text(text))
