"""Files written atomically: a temporary file in the same folder, fsynced, then renamed over the target,
so a crash at any moment leaves either the old file or the new one, never half of one. No torch here:
the schema cache writes through it while validating.

    atomic_write_text("runs/mnist/history.csv", text)

A write the disk refuses (full, read-only, not writable) is an OSError with its errno, even when the
library doing the writing (safetensors, torch.save) reports it in words of its own. The temporary file
is `.<name>.<8 random characters>.tmp` (tempfile.mkstemp); a process killed mid-write leaves it behind,
and `remove_temporaries` clears such leftovers.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

#: Names of atomic_write's temporary files (tempfile.mkstemp's 8 characters between prefix and suffix).
TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
_OS_ERROR_IN_MESSAGE = re.compile(r"os error (\d+)")  # how Rust's std::io::Error (safetensors) words an errno


def atomic_write(path: str | Path, write: Callable[[Path], None], *, before_replace: Callable[[Path], None] | None = None) -> None:
    """Call write(temporary_path), fsync it and rename it to `path`; before_replace(temporary_path) runs just before the rename."""
    _write_then_replace(Path(path), lambda temporary: _as_os_error(write, temporary), before_replace)


def atomic_write_stream(path: str | Path, write: Callable[[IO[bytes]], None], *, before_replace: Callable[[Path], None] | None = None) -> None:
    """As atomic_write, with write(binary_file): the file's own OSError is raised, not the writer's rewording of it."""

    def into(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            recording = _RecordingFile(handle)
            try:
                write(recording)  # type: ignore[arg-type]
            except Exception:
                if recording.error is not None:  # torch.save turns a failed write into "unexpected pos 640 vs 534"
                    raise recording.error from None
                raise

    _write_then_replace(Path(path), into, before_replace)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_stream(path, lambda handle: handle.write(text.encode()))


def remove_temporaries(folder: str | Path) -> list[Path]:
    """Remove the temporary files atomic_write left in `folder` and its subfolders (links are not followed); those removed."""
    removed = []
    for directory, _, names in os.walk(folder):
        for name in names:
            path = Path(directory, name)
            if TEMPORARY_NAME.fullmatch(name) and not path.is_symlink():
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _write_then_replace(path: Path, write: Callable[[Path], None], before_replace: Callable[[Path], None] | None) -> None:
    import tempfile  # here: validate imports this module for the schema cache, and writes only on a cache miss

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace(temporary)
        os.replace(temporary, path)  # replaces a link at `path` itself: nothing is written through it
    except OSError as error:
        temporary.unlink(missing_ok=True)
        if error.errno is None:
            raise
        raise OSError(error.errno, error.strerror, str(path)) from error  # the file being written, not its temporary name
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _as_os_error(write: Callable[[Path], None], temporary: Path) -> None:
    """write(temporary), with an error whose message carries an errno ("... (os error 28)") raised as that OSError."""
    try:
        write(temporary)
    except OSError:
        raise
    except Exception as error:
        found = _OS_ERROR_IN_MESSAGE.search(str(error))
        if found is None:
            raise
        number = int(found.group(1))
        raise OSError(number, os.strerror(number), str(temporary)) from error


class _RecordingFile:
    """A binary file that remembers the first OSError of its writes, for writers that reword it."""

    def __init__(self, handle: IO[bytes]):
        self._handle, self.error = handle, None

    def write(self, data: Any) -> int:
        try:
            return self._handle.write(data)
        except OSError as error:
            self.error = self.error or error
            raise

    def flush(self) -> None:
        try:
            self._handle.flush()
        except OSError as error:
            self.error = self.error or error
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)
