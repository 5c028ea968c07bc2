"""The run directory's own files, in one torch-free place: the names that callbacks' outputs may not take,
and the check that keeps such an output inside the run directory.

    check_inside_run_dir("ckpt/../best.safetensors")   # 'best.safetensors' (normalised)
    check_inside_run_dir("../best.safetensors")        # ValueError: must stay inside the run directory ...
    check_inside_run_dir("spec.yaml")                  # ValueError: ... reserved for the run's own files
"""

from __future__ import annotations

import posixpath
import unicodedata
from pathlib import PurePosixPath, PureWindowsPath

#: The files every run directory holds (modelspec.training.run writes them; `.lock` is held while training).
RESERVED = frozenset({"spec.yaml", "history.csv", "model.safetensors", "checkpoint.pt", "run.json", ".lock"})

#: modelspec.files.atomic_write's temporary files, beside their target: hidden, like every name starting with '.'.
TEMPORARY_PATTERN = ".{name}.*.tmp"

#: The longest file name (one path component) common file systems take, in bytes.
MAX_NAME_BYTES = 255


def reserved_reason(name: str) -> str | None:
    """Why a top-level name of the run directory is not free for a callback (case-insensitively), or None."""
    if name.casefold() in {reserved.casefold() for reserved in RESERVED}:
        return f"'{name}' is one of the run's own files"
    return None


def _hidden(part: str) -> str | None:
    return f"'{part}' starts with '.' (hidden names, like the run's .lock and temporary files)" if part.startswith(".") else None


def _impossible(part: str) -> str | None:
    """Why a path component cannot be a file name on common file systems, or None."""
    control = next((char for char in part if unicodedata.category(char) == "Cc"), None)
    if control is not None:
        return f"it contains a control character (U+{ord(control):04X})"
    size = len(part.encode("utf-8", "surrogatepass"))
    return f"a name of {size} bytes, longer than the {MAX_NAME_BYTES} file systems allow" if size > MAX_NAME_BYTES else None


def check_inside_run_dir(value: str, *, directory: bool = False) -> str:
    """The normalised relative (POSIX) path of a callback's output; ValueError saying why when `value` is empty,
    leads out of the run directory, or names (or goes through) one of the run's own files or a hidden name.

    `directory`: the output is a folder (TensorBoard's log_dir), which may be the run directory itself ('.')."""
    what, example = ("directory", "logs") if directory else ("file", "log.csv")
    if not value.strip():
        raise ValueError(f"must name a {what} inside the run directory, e.g. {example}")
    if PurePosixPath(value).is_absolute() or PureWindowsPath(value).anchor:
        raise ValueError(f"must stay inside the run directory (it is relative to it): '{value}' is an absolute path")
    normal = posixpath.normpath(value.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        raise ValueError(f"must stay inside the run directory (it is relative to it): '{value}' leads out of it through '..'")
    if normal == ".":
        if directory:
            return normal
        raise ValueError(f"must name a file inside the run directory, e.g. {example}: received '{value}'")
    parts = normal.split("/")
    impossible = next(filter(None, map(_impossible, parts)), None)
    if impossible is not None:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise ValueError(f"'{shown.encode('unicode_escape').decode()}' is not a possible {what} name: {impossible}")
    reserved = reserved_reason(parts[0]) or next(filter(None, map(_hidden, parts)), None)
    if reserved is not None:
        raise ValueError(f"'{value}' is reserved: {reserved}; choose another name "
                         f"(reserved: {', '.join(sorted(RESERVED))} and names starting with '.')")
    return normal


def overlap(first: str, second: str) -> str | None:
    """How two normalised outputs in the run directory collide: 'same' (one file), 'inside' (`first` is in the
    folder `second`), 'contains' (`second` is in the folder `first`), or None."""
    a, b = first.casefold(), second.casefold()
    if a == b:
        return "same"
    if a.startswith(b + "/"):
        return "inside"
    if b.startswith(a + "/"):
        return "contains"
    return None
