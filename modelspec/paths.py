"""Input paths that must be regular files: say what a path is when it is not (no torch, no numpy).

A spec or data path naming a FIFO would block its reader forever, `/dev/zero` never ends, and a
symbolic link loop is not "missing". `open_regular` opens without blocking and checks the opened
file itself, so a path swapped between the check and the read cannot slip through.

    with open_regular(path) as handle:   # PathProblem("it is a FIFO (named pipe), not a regular file")
        text = handle.read(limit + 1)
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class PathProblem(Exception):
    """A path that cannot be read as a regular file; str() says why ("not found", "it is a directory, ...")."""

    def __init__(self, reason: str, *, missing: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.missing = missing


def kind(mode: int) -> str:
    """What a file of this st_mode is, in words ("a regular file", "a FIFO (named pipe)", ...)."""
    return next((name for test, name in _KINDS if test(mode)), "a regular file" if stat.S_ISREG(mode) else "a special file")


def _os_problem(path: Path, error: OSError) -> PathProblem:
    if error.errno == errno.ELOOP:
        return PathProblem("it is a symbolic link loop (the links never reach a file)")
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        if os.path.islink(path):
            return PathProblem(f"it is a symbolic link to a missing file ({os.readlink(path)})", missing=True)
        return PathProblem("not found", missing=True)
    if error.errno == errno.EACCES:
        return PathProblem("permission denied")
    return PathProblem(error.strerror or str(error))


def _not_regular(mode: int) -> PathProblem | None:
    if stat.S_ISREG(mode):
        return None
    return PathProblem(f"it is {kind(mode)}, not a regular file")


def check_regular(path: str | Path) -> int:
    """The size in bytes of the regular file at `path` (symbolic links followed); PathProblem otherwise."""
    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as error:
        raise _os_problem(path, error) from None
    problem = _not_regular(info.st_mode)
    if problem is not None:
        raise problem
    return info.st_size


def open_regular(path: str | Path) -> BinaryIO:
    """Open a regular file for binary reading without blocking on a FIFO or device; PathProblem otherwise."""
    path = Path(path)
    check_regular(path)  # names a FIFO, device or directory before any open()
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise _os_problem(path, error) from None
    problem = _not_regular(os.fstat(descriptor).st_mode)  # the file opened, whatever the path names now
    if problem is not None:
        os.close(descriptor)
        raise problem
    return os.fdopen(descriptor, "rb")


def resolved(path: str | Path) -> Path:
    """The absolute path with symbolic links resolved as far as they go (Path.resolve raises
    RuntimeError on a loop; the loop is reported when the file is opened)."""
    return Path(os.path.realpath(path))
