"""Training, validation and test data: where it comes from (the spec's `data` section) and whether it fits.

Four forms of `DataSource`, for each of `data.train`, `data.validation`, `data.test`:

    train: data/train.npz                          # arrays keyed by input and output names
    train: {x: {image: x.npy, meta: m.csv}, y: {label: y.npz:label}}
    train: {x: images.npy, y: labels.csv}          # one input, one output
    train: {dataset: digits}                       # shipped: train = first 80%, else the last 20%
    train: {synthetic: {samples: 256, seed: 0}}    # random arrays shaped like the model's inputs

Names: arrays are looked up by the model's input and output names. A model with one input
(and one output), which includes every sequential model, may use `x` (and `y`) instead.
Files: `.npy` (memory-mapped, never read whole), `.npz` (only the needed keys are read; a file
with one array needs no key, otherwise `file.npz:key` or the mapping's name picks it), `.csv` or
`.csv.gz` (numbers only; a first row without any number is a header). Relative paths are
resolved against the spec file's directory; a path that is not a regular file (a FIFO, a device,
a symbolic link loop) is refused, saying what it is.

Sizes come before reads (`ResourceError` past the memory available, unless `force`): an `.npz`
member's from its `.npy` header (a header declaring more than the member holds is corrupt), a
CSV's numbers (8 bytes each) counted on its decompressed text a chunk at a time, synthetic arrays'
and conversions' (one-hot, dtype) from their shapes.

Checks (`check_arrays`) run before training and report every problem at once: missing or extra
arrays, shapes, dtypes, NaN/inf, lengths, label ranges, fixed batch sizes. Conformance rules:
- a target may differ from its expected shape by a trailing axis of size 1 ((n,) vs (n, 1));
- class ids (n,) for a `categorical` target of shape (None, C) are one-hot encoded to (n, C)
  (this is how `{dataset: digits}` feeds a softmax + categorical_crossentropy model);
- arrays are converted to the expected dtype; arrays already in it are returned as they are,
  so `.npy` memory maps stay lazy (and read-only: index batches out of them before handing
  them to torch).

Example:
    expected = [ArraySpec("features", (None, 64), "float32", "input"),
                ArraySpec("digit", (None, 10), "float32", "target", label_kind="categorical")]
    raw = load_source(source, expected, base_dir=spec_path.parent, split="train")
    arrays = check_arrays(raw, expected, where="data.train")
    train, val = split_validation(arrays, 0.2)
"""

from __future__ import annotations

import csv
import gzip
import math
import mmap
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from modelspec.data_spec import (  # noqa: F401  (re-exported)
    FILE_SUFFIXES,
    DatasetSource,
    DataSource,
    FilesSource,
    SyntheticOptions,
    SyntheticSource,
    _split_key,
)
from modelspec.datasets import digits
from modelspec.errors import DataError, did_you_mean, format_choices
from modelspec.paths import PathProblem, check_regular
from modelspec.resources import FORCE_HINT, ResourceError, check_allocation, fits
from modelspec.summary import readable_size

__all__ = [
    "ArraySpec",
    "Arrays",
    "DataSource",
    "DatasetSource",
    "FilesSource",
    "SyntheticSource",
    "check_arrays",
    "load_source",
    "split_validation",
]

DTYPES = ("float32", "int32", "int64", "bool")
LABEL_KINDS = ("categorical", "sparse", "binary")
#: Size given by `{synthetic: ...}` to a non-batch dimension the model leaves unknown (a sequence length).
SYNTHETIC_UNKNOWN_DIM = 8
#: Values of a synthetic integer input without a `high` bound lie in [0, SYNTHETIC_INT_HIGH).
SYNTHETIC_INT_HIGH = 10
_CHUNK_BYTES = 16 * 1024 * 1024  # value checks scan large (memory-mapped) arrays, and CSV counts their text, in slices this big
_HEADER_CHARS = 64 * 1024  # a CSV's first row is read this far to tell a header from numbers
#: Bytes a CSV number takes once read (float64).
CSV_VALUE_BYTES = 8
_READ_ERRORS = (OSError, ValueError, EOFError, RuntimeError, KeyError, zipfile.BadZipFile, zlib.error, csv.Error)


# ----- expectations --------------------------------------------------------------------------
@dataclass(frozen=True)
class ArraySpec:
    """What the model expects of one array.

    Args:
        name: the input or output name.
        shape: batch dimension first; None is any size (a fixed batch size is a stateful model's).
        dtype: "float32", "int32", "int64" or "bool".
        role: "input" or "target".
        num_classes: classes of a categorical or sparse target (categorical: defaults to the last dimension).
        label_kind: "categorical" (one-hot rows), "sparse" (class ids), "binary" (values in [0, 1]) or None.
        high: integer inputs only: values must lie in [0, high) (an Embedding's input_dim).
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: str = "float32"
    role: Literal["input", "target"] = "input"
    num_classes: int | None = None
    label_kind: Literal["categorical", "sparse", "binary"] | None = None
    high: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(self.shape))
        if not self.shape:
            raise ValueError(f"ArraySpec {self.name!r}: the shape needs a batch dimension first")
        if self.dtype not in DTYPES:
            raise ValueError(f"ArraySpec {self.name!r}: dtype {self.dtype!r} is not one of {DTYPES}")
        if self.role not in ("input", "target"):
            raise ValueError(f"ArraySpec {self.name!r}: role {self.role!r} is not 'input' or 'target'")
        if self.label_kind is not None and (self.role != "target" or self.label_kind not in LABEL_KINDS):
            raise ValueError(f"ArraySpec {self.name!r}: label_kind {self.label_kind!r} needs role 'target' and one of {LABEL_KINDS}")
        if self.label_kind == "categorical" and self.num_classes is None and isinstance(self.shape[-1], int):
            object.__setattr__(self, "num_classes", self.shape[-1])
        if self.label_kind in ("categorical", "sparse") and self.num_classes is None:
            raise ValueError(f"ArraySpec {self.name!r}: a {self.label_kind} target needs num_classes")

    @property
    def shape_text(self) -> str:
        return _shape_text(self.shape)


class Arrays(dict):
    """Arrays by name (a dict), remembering where each came from for error messages.

    `origins` maps a name to its file (`train.npz:x`); `unused` lists the arrays present in the
    source that match no expected name and were therefore not read (name -> origin): errors
    when targets are expected, only suggestions when inputs alone are (prediction).
    """

    def __init__(self, *args: Any, origins: dict[str, str] | None = None, unused: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.origins: dict[str, str] = dict(origins or {})
        self.unused: dict[str, str] = dict(unused or {})


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return str(tuple(None if d is None else int(d) for d in shape))


# ----- loading -------------------------------------------------------------------------------
class _Loader:
    """Reads one DataSource, collecting every file problem before raising."""

    def __init__(self, expected: list[ArraySpec], base_dir: Path, split: str, *, force: bool = False):
        self.force = force
        self.inputs = [s for s in expected if s.role == "input"]
        self.targets = [s for s in expected if s.role == "target"]
        self.base_dir = Path(base_dir)
        self.split = split
        self.problems: list[str] = []
        self.arrays = Arrays()

    def fail(self, message: str) -> None:
        self.problems.append(f"data.{self.split}: {message}")

    def allocate(self, needed: int, what: str) -> None:
        """ResourceError unless `needed` bytes for `what` fit in the memory available now (or `force`)."""
        check_allocation(needed, f"data.{self.split}: {what}", force=self.force)

    def resolve(self, written: str) -> Path:
        path = Path(written)
        return path if path.is_absolute() else self.base_dir / path

    def add(self, name: str, array: np.ndarray | None, origin: str) -> None:
        if array is not None:
            self.arrays[name] = array
            self.arrays.origins[name] = origin

    # -- one file -----------------------------------------------------------------------------
    def read_single(self, written: str, name_hint: str | None = None) -> np.ndarray | None:
        """One array from `.npy`, `.csv`, `file.npz:key` or an `.npz` (key = name_hint, or its only array)."""
        path_text, key = _split_key(written)
        path = self.resolve(path_text)
        if not self._exists(path, path_text):
            return None
        lower = path_text.lower()
        if lower.endswith(".npy"):
            return self._read_npy(path, path_text)
        if lower.endswith((".csv", ".csv.gz")):
            return self._read_csv(path, path_text)
        members = self._npz_members(path, path_text)
        if members is None:
            return None
        if key is None and name_hint not in members and len(members) == 1:
            key = members[0]
        elif key is None:
            if name_hint not in members:
                named = f" and none is named '{name_hint}'" if name_hint else ""
                self.fail(
                    f"'{path_text}' holds {len(members)} arrays{named}: pick one as '{path_text}:key'; "
                    f"it has {format_choices(members)}{did_you_mean(name_hint or '', members)}"
                )
                return None
            key = name_hint
        if key not in members:
            self.fail(f"'{path_text}' has no array '{key}'; it has {format_choices(members) or 'none'}{did_you_mean(key, members)}")
            return None
        return self._read_npz_member(path, path_text, key)

    def _exists(self, path: Path, written: str) -> bool:
        """True for a regular file; else a problem saying what the path is (missing, a FIFO, a device, ...)."""
        try:
            check_regular(path)
        except PathProblem as problem:
            self.fail(f"cannot read '{written}': {problem.reason} (looked for {path})")
            return False
        return True

    def _read_npy(self, path: Path, written: str) -> np.ndarray | None:
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except _READ_ERRORS as exc:
            self.fail(f"cannot read '{written}' as a .npy array: {_reason(exc)}")
            return None
        if not isinstance(array, np.ndarray):  # an .npz archive under a .npy name
            self.fail(f"cannot read '{written}' as a .npy array: it is an .npz archive")
            return None
        return array

    def _npz_members(self, path: Path, written: str) -> list[str] | None:
        try:
            archive = np.load(path, mmap_mode="r", allow_pickle=False)  # mmap_mode: a .npy in disguise is not read
        except _READ_ERRORS as exc:
            self.fail(f"cannot read '{written}' as an .npz archive: {_reason(exc)}")
            return None
        if isinstance(archive, np.ndarray):
            self.fail(f"cannot read '{written}' as an .npz archive: it is a single .npy array (rename it to .npy)")
            return None
        with archive:
            return list(archive.files)

    def _read_npz_member(self, path: Path, written: str, key: str) -> np.ndarray | None:
        """One member, once its header's size is checked against the archive and the available memory."""
        what = f"array '{key}' of '{written}'"
        try:
            with np.load(path, allow_pickle=False) as archive:
                return archive[key] if self._member_fits(archive.zip, f"{key}.npy", what) else None
        except MemoryError:
            raise ResourceError(f"data.{self.split}: {what} did not fit in the memory available here") from None
        except _READ_ERRORS as exc:
            self.fail(f"cannot read {what}: {_reason(exc)}")
            return None

    def _member_fits(self, archive: zipfile.ZipFile, name: str, what: str) -> bool:
        """False (a problem) for a member that is no .npy array or holds less than its header declares;
        ResourceError when its data would not fit in memory."""
        if name not in archive.namelist():
            self.fail(f"cannot read {what}: it is not a .npy array (a raw file inside the archive)")
            return False
        shape, dtype, stored = _npy_layout(archive, name)
        needed = math.prod(shape) * dtype.itemsize
        layout = f"shape {_shape_text(shape)}, {dtype}"
        if needed > stored:
            self.fail(f"cannot read {what}: its header declares {layout} ({readable_size(needed)}), but it holds "
                      f"{stored:,} bytes: the archive is corrupt or truncated")
            return False
        self.allocate(needed, f"{what} ({layout})")
        return True

    def _read_csv(self, path: Path, written: str) -> np.ndarray | None:
        try:
            self._csv_fits(path, written)
            return _read_csv(path)
        except _CsvProblem as problem:
            self.fail(f"cannot read '{written}' as a numeric CSV: {problem}")
        except _READ_ERRORS as exc:
            self.fail(f"cannot read '{written}' as a numeric CSV: {_reason(exc)}")
        return None

    def _csv_fits(self, path: Path, written: str) -> None:
        """ResourceError when the CSV's numbers, as float64, would not fit in memory: they are counted on
        the (decompressed) text, read a chunk at a time and only up to what would fit."""
        _, available = fits(0, force=self.force)
        limit = None if self.force or available is None else available // CSV_VALUE_BYTES
        values, text_bytes = _csv_values(path, limit)
        if limit is not None and values > limit:
            raise ResourceError(
                f"data.{self.split}: '{written}' holds more than {limit:,} numbers (in its first {readable_size(text_bytes)} "
                f"of text): as float64 they would take more than the {readable_size(available)} of memory available here; {FORCE_HINT}"
            )

    # -- source forms ---------------------------------------------------------------------------
    def archive(self, written: str) -> None:
        """A single `.npz` holding every array, keyed by name (or x / y for a single input / output)."""
        path = self.resolve(written)
        if not self._exists(path, written):
            return
        members = self._npz_members(path, written)
        if members is None:
            return
        taken: set[str] = set()
        for specs, alias in ((self.inputs, "x"), (self.targets, "y")):
            for spec in specs:
                key = spec.name if spec.name in members else alias if len(specs) == 1 and alias in members else None
                if key is not None and key not in taken:
                    taken.add(key)
                    self.add(spec.name, self._read_npz_member(path, written, key), f"{written}:{key}")
        self.arrays.unused.update({key: f"{written}:{key}" for key in members if key not in taken})

    def files(self, source: FilesSource) -> None:
        for specs, alias, given in ((self.inputs, "x", source.x), (self.targets, "y", source.y)):
            if given is None or not specs:
                continue  # y absent: check_arrays reports the missing targets; no targets wanted: y ignored
            if isinstance(given, str):
                self._one_path(specs, alias, given)
                continue
            for name, written in given.items():
                target = specs[0].name if len(specs) == 1 and name == alias and alias not in {s.name for s in specs} else name
                self.add(target, self.read_single(written, name_hint=name), written)

    def _one_path(self, specs: list[ArraySpec], alias: str, written: str) -> None:
        path_text, key = _split_key(written)
        if len(specs) == 1:
            self.add(specs[0].name, self.read_single(written, name_hint=specs[0].name), written)
            return
        if key is None and path_text.lower().endswith(".npz"):  # several arrays from one archive, by name
            path = self.resolve(path_text)
            members = self._npz_members(path, path_text) if self._exists(path, path_text) else None
            for spec in specs if members is not None else ():
                if spec.name in members:
                    self.add(spec.name, self._read_npz_member(path, path_text, spec.name), f"{path_text}:{spec.name}")
            for member in members or ():
                if member not in {s.name for s in specs}:
                    self.arrays.unused[member] = f"{path_text}:{member}"
            return
        role = "inputs" if alias == "x" else "outputs"
        names = ", ".join(f"'{s.name}'" for s in specs)
        self.fail(
            f"{alias}: one file '{written}' for {len(specs)} {role} ({names}): "
            f"give a mapping of names to files, e.g. {alias}: {{{specs[0].name}: ..., {specs[1].name}: ...}}"
        )

    def dataset(self, source: DatasetSource) -> None:
        part = source.split or ("train" if self.split == "train" else "test")
        images, labels = digits.load_digits(part)
        origin = f"the digits dataset ({part} split)"
        if len(self.inputs) != 1 or len(self.targets) > 1:
            names = ", ".join(f"'{s.name}'" for s in self.inputs + self.targets)
            self.fail(f"the digits dataset has one input (64 pixels) and one target (the digit); the model has {names}")
            return
        spec = self.inputs[0]
        dims = spec.shape[1:]
        if all(isinstance(d, int) for d in dims) and math.prod(dims) == digits.NUM_FEATURES and len(dims) > 1:
            images = images.reshape((len(images), *dims))  # (8, 8) or (8, 8, 1) images for a convolutional model
        self.add(spec.name, images, origin)
        if self.targets:
            self.add(self.targets[0].name, labels, origin)

    def synthetic(self, source: SyntheticSource) -> None:
        options = source.synthetic
        for spec in self.inputs + self.targets:
            seed = [options.seed, zlib.crc32(self.split.encode()), zlib.crc32(spec.name.encode())]
            shape = _synthetic_shape(spec, options.samples)
            self.allocate(_synthetic_bytes(spec, shape), f"synthetic array '{spec.name}' of shape {_shape_text(shape)} ({spec.dtype})")
            self.add(spec.name, _synthesize(spec, options.samples, np.random.default_rng(seed)), "synthetic data")


def load_source(source: DataSource, expected: list[ArraySpec], base_dir: Path, split: str, *, force: bool = False) -> Arrays:
    """Read the raw arrays of one `data.<split>` source, keyed by the model's input and output names.

    `split` ("train", "validation", "test") names the source in messages, picks the digits split
    (train under "train", test otherwise) and seeds synthetic data. File problems are collected
    and raised together as one DataError; shapes and values are checked by `check_arrays`. Sizes
    are checked before anything is read or generated (`.npz` members from their headers, CSV numbers
    counted on the text, synthetic arrays from their shapes): ResourceError when they would not fit
    in the memory available, unless `force`.
    """
    loader = _Loader(expected, base_dir, split, force=force)
    if isinstance(source, str):
        loader.archive(source)
    elif isinstance(source, FilesSource):
        loader.files(source)
    elif isinstance(source, DatasetSource):
        loader.dataset(source)
    elif isinstance(source, SyntheticSource):
        loader.synthetic(source)
    else:
        raise TypeError(f"not a DataSource: {source!r}")
    if loader.problems:
        raise DataError("\n".join(loader.problems))
    return loader.arrays


def _npy_layout(archive: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, bytes after the header) of an .npy member, from its header alone: nothing more is inflated."""
    info = archive.getinfo(name)
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f"the .npy format version {version[0]}.{version[1]} is not supported (1.0 or 2.0 expected)")
        shape, _, dtype = read_header(member)
        return shape, dtype, info.file_size - member.tell()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if "pickled" in text or "allow_pickle" in text:
        return "not a NumPy file, or it holds Python objects (pickled data is never loaded)"
    if "mmap length is greater than file size" in text:
        return "the file is truncated (shorter than its header says)"
    if isinstance(exc, zipfile.BadZipFile) or isinstance(exc, zlib.error):
        return f"the archive is corrupt or truncated ({text})"
    if isinstance(exc, EOFError):
        return f"the file is truncated ({text})"
    return text


# ----- CSV -----------------------------------------------------------------------------------
class _CsvProblem(Exception):
    pass


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _csv_values(path: Path, limit: int | None) -> tuple[int, int]:
    """(an upper bound of the numbers in a CSV: commas + line ends + 1, the bytes of text read): counted
    a chunk at a time on the decompressed text, stopping once past `limit`."""
    values, size = 1, 0
    with (gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")) as raw:
        while chunk := raw.read(_CHUNK_BYTES):
            values += chunk.count(b",") + chunk.count(b"\n")
            size += len(chunk)
            if limit is not None and values > limit:
                break
    return values, size


def _first_row(text) -> list[str] | None:
    """The cells of the first non-empty row, from at most its first _HEADER_CHARS characters (enough to tell a header)."""
    for line in iter(lambda: text.readline(_HEADER_CHARS), ""):
        row = next(csv.reader([line]), [])
        if row:
            return row
    return None


def _read_csv(path: Path) -> np.ndarray:
    """A numeric CSV as a float64 (rows, columns) array; a first row with no number is a header."""
    with _open_text(path) as text:
        first = _first_row(text)
    if first is None:
        raise _CsvProblem("the file is empty")
    header = not any(_is_number(cell) for cell in first)
    try:  # fast path in C; on failure, a slow pass finds the line and column to report
        with _open_text(path) as text, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": reported below
            table = np.loadtxt(text, delimiter=",", skiprows=int(header), ndmin=2, dtype=np.float64, comments=None, quotechar='"')
    except ValueError:
        _diagnose_csv(path, header)
        raise
    if table.shape[0] == 0:
        raise _CsvProblem("it has a header row and no data")
    return table


def _diagnose_csv(path: Path, header: bool) -> None:
    with _open_text(path) as text:
        reader = csv.reader(text)
        width = None
        for row in reader:
            if not row:
                continue
            if header:
                header = False
                continue
            line = reader.line_num
            if width is None:
                width = len(row)
            elif len(row) != width:
                raise _CsvProblem(f"line {line} has {len(row)} columns, the rows before it {width}")
            for column, cell in enumerate(row, start=1):
                if not _is_number(cell):
                    shown = "an empty cell" if not cell.strip() else f"'{cell[:40]}' is not a number"
                    raise _CsvProblem(f"line {line}, column {column}: {shown}")


# ----- synthetic data ------------------------------------------------------------------------
def _synthetic_shape(spec: ArraySpec, samples: int) -> tuple[int, ...]:
    return (samples, *(SYNTHETIC_UNKNOWN_DIM if d is None else d for d in spec.shape[1:]))


def _synthetic_bytes(spec: ArraySpec, shape: tuple[int, ...]) -> int:
    """Bytes `_synthesize` allocates: the array, and the int64 values integers and one-hot rows are drawn as."""
    size = math.prod(shape) * np.dtype(spec.dtype).itemsize
    if spec.label_kind == "categorical":
        return size + math.prod(shape[:-1]) * 8
    integers = spec.label_kind in ("sparse", "binary") or spec.dtype != "float32"
    return size + (math.prod(shape) * 8 if integers else 0)


def _synthesize(spec: ArraySpec, samples: int, rng: np.random.Generator) -> np.ndarray:
    shape = _synthetic_shape(spec, samples)
    if spec.label_kind == "categorical":
        ids = rng.integers(0, spec.num_classes, size=shape[:-1])
        return np.eye(spec.num_classes, dtype=spec.dtype)[ids]
    if spec.label_kind == "sparse":
        return rng.integers(0, spec.num_classes, size=shape).astype(spec.dtype)
    if spec.label_kind == "binary" or spec.dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(spec.dtype)
    if spec.dtype in ("int32", "int64"):
        return rng.integers(0, spec.high or SYNTHETIC_INT_HIGH, size=shape).astype(spec.dtype)
    return rng.random(shape, dtype=np.float32).astype(spec.dtype, copy=False)


# ----- memory maps ---------------------------------------------------------------------------
#: Ranges released from a map are widened to this boundary (a multiple of the page size): one page
#: fault can map the whole large folio around it, up to a 2 MiB huge page on Linux.
RELEASE_ALIGNMENT = 2 * 1024 * 1024


def release_pages(array: np.ndarray, rows: tuple[int, int] | None = None) -> None:
    """Take a read-only memory map's pages out of this process's resident memory.

    Pages read through a map stay mapped, and counted in the process's RSS, until the kernel needs
    the memory: a pass over a 4 GB `.npy` would leave 4 GB resident. MADV_DONTNEED unmaps them;
    they stay in the page cache, so the next read of them is a minor fault, not a disk read. Only
    for shared maps ("r", "r+"), where no data can be lost; anything else is left alone.

    `rows` (first, last), both included: only the pages holding those rows of `array` (the kernel's
    walk over the range costs time in proportion to it: ~60 us for a whole 32 GB map); else the whole map.
    """
    view = array
    while isinstance(array, np.ndarray):
        mapped = getattr(array, "_mmap", None)
        if isinstance(array, np.memmap) and mapped is not None:
            if getattr(array, "mode", None) in ("r", "r+") and hasattr(mmap, "MADV_DONTNEED") and hasattr(mapped, "madvise"):
                if rows is None or view.ndim == 0:
                    mapped.madvise(mmap.MADV_DONTNEED)
                else:
                    start, end = _row_bytes_in_map(view, array, mapped, rows)
                    if end > start:
                        mapped.madvise(mmap.MADV_DONTNEED, start, end - start)
            return
        array = array.base


def _row_bytes_in_map(view: np.ndarray, root: np.memmap, mapped: mmap.mmap, rows: tuple[int, int]) -> tuple[int, int]:
    """The [start, end) byte range of `mapped` holding rows[0]..rows[1] of `view`, a view of `root`, widened
    to RELEASE_ALIGNMENT: a fault on one page can map its neighbours (fault-around, large folios).

    np.memmap maps from the allocation-granularity boundary below its offset, so its data starts
    offset % ALLOCATIONGRANULARITY bytes into the map.
    """
    data_start = view.__array_interface__["data"][0] - root.__array_interface__["data"][0] + root.offset % mmap.ALLOCATIONGRANULARITY
    first, last = rows
    stride = view.strides[0]
    low, high = sorted((first * stride, last * stride))
    start = data_start + low
    end = data_start + high + (abs(stride) if view.shape[0] else 0)
    start -= start % RELEASE_ALIGNMENT
    end = min(len(mapped), -(-end // RELEASE_ALIGNMENT) * RELEASE_ALIGNMENT)
    return max(0, start), end


# ----- checks --------------------------------------------------------------------------------
def _chunks(array: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, slice) pairs covering the array, each about _CHUNK_BYTES (memory maps stay lazy,
    and their pages leave the resident memory after each slice)."""
    if array.ndim == 0 or array.shape[0] == 0:
        yield 0, np.asarray(array)
        return
    row_bytes = max(1, array[0:1].nbytes)
    step = max(1, _CHUNK_BYTES // row_bytes)
    for start in range(0, array.shape[0], step):
        yield start, np.asarray(array[start : start + step])
        release_pages(array, (start, min(start + step, array.shape[0]) - 1))


def _first_bad(array: np.ndarray, is_bad) -> tuple[int, tuple[int, ...] | None, Any]:
    """(count, index of the first, value of the first) of the elements where is_bad(chunk) is True."""
    count, first, value = 0, None, None
    for start, chunk in _chunks(array):
        mask = is_bad(chunk)
        found = int(np.count_nonzero(mask))
        if found and first is None:
            flat = int(np.argmax(mask.reshape(-1)))
            index = np.unravel_index(flat, chunk.shape) if chunk.ndim else ()
            first = tuple(int(i) for i in index)
            value = chunk[first] if chunk.ndim else chunk[()]
            if first:
                first = (first[0] + start, *first[1:])
        count += found
    return count, first, value


def _index_text(index: tuple[int, ...] | None) -> str:
    if not index:
        return ""
    return str(index[0]) if len(index) == 1 else str(index)


class _Checker:
    def __init__(self, arrays: dict[str, np.ndarray], where: str, *, force: bool = False):
        self.force = force
        self.arrays = arrays
        self.where = where
        self.origins: dict[str, str] = getattr(arrays, "origins", {})
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.where}: {message}")

    def label(self, name: str) -> str:
        origin = self.origins.get(name)
        return f"array '{name}' (from {origin})" if origin else f"array '{name}'"

    def names(self, expected: list[ArraySpec]) -> None:
        """Missing and extra arrays."""
        unused: dict[str, str] = getattr(self.arrays, "unused", {})
        available = list(self.arrays) + [k for k in unused if k not in self.arrays]
        wanted = [s.name for s in expected]
        predicting = not any(s.role == "target" for s in expected)
        for spec in expected:
            if spec.name not in self.arrays:
                has = f"the data has {format_choices(available)}" if available else "the data has no arrays"
                self.fail(
                    f"missing array '{spec.name}' (the model's {spec.role} '{spec.name}', shape {spec.shape_text}); "
                    f"{has}{did_you_mean(spec.name, [a for a in available if a not in wanted])}"
                )
        for name in available:
            if name not in wanted and not (predicting and name not in self.arrays):
                origin = self.origins.get(name) or unused.get(name)
                source = f" (from {origin})" if origin else ""
                self.fail(
                    f"unexpected array '{name}'{source}: the model takes {format_choices(wanted)}"
                    f"{did_you_mean(name, [w for w in wanted if w not in self.arrays])}"
                )

    def conform(self, spec: ArraySpec, array: np.ndarray) -> np.ndarray | None:
        """The array in the expected shape and dtype, or None after reporting why it cannot be."""
        label = self.label(spec.name)
        if array.dtype.kind not in "biuf":
            self.fail(f"{label} has dtype {array.dtype}, which is not numeric; the model's {spec.role} '{spec.name}' takes {spec.dtype}")
            return None
        rank = len(spec.shape)
        if spec.role == "target" and array.ndim == rank + 1 and array.shape[-1] == 1:
            array = array.reshape(array.shape[:-1])  # (n, 1) labels for an (n,) target
        one_hot = spec.label_kind == "categorical" and array.ndim == rank - 1 and _is_integral(array)
        if not one_hot and spec.role == "target" and array.ndim == rank - 1 and spec.shape[-1] == 1:
            array = array.reshape((*array.shape, 1))  # (n,) labels for an (n, 1) target
        ok = self.shape(spec, array, label, one_hot)
        ok = self.values(spec, array, label, one_hot) and ok
        if not ok:
            return None
        if one_hot:
            self.allocate(array.size * (spec.num_classes * np.dtype(spec.dtype).itemsize + 8), f"{label} one-hot encoded")
            return np.eye(spec.num_classes, dtype=spec.dtype)[np.asarray(array, dtype=np.int64)]
        if array.dtype == np.dtype(spec.dtype):
            return array
        self.allocate(array.size * np.dtype(spec.dtype).itemsize, f"{label} converted to {spec.dtype}")
        return np.asarray(array, dtype=spec.dtype)

    def allocate(self, needed: int, what: str) -> None:
        check_allocation(needed, f"{self.where}: {what}", force=self.force)

    def shape(self, spec: ArraySpec, array: np.ndarray, label: str, one_hot: bool) -> bool:
        expected = spec.shape[:-1] if one_hot else spec.shape
        received = array.shape
        matches = len(received) == len(expected) and all(e is None or e == r for e, r in zip(expected[1:], received[1:]))
        if matches:
            return True
        what = "class ids" if one_hot else "shape"
        if len(received) != len(expected):
            message = (
                f"{label} has shape {_shape_text(received)} ({_dims(len(received))}); the model's {spec.role} '{spec.name}' "
                f"expects {spec.shape_text} ({_dims(len(spec.shape))})"
            )
        else:
            message = f"{label} has {what} {_shape_text(received)}; the model's {spec.role} '{spec.name}' expects {spec.shape_text}"
        if spec.label_kind == "sparse" and len(received) == len(expected) + 1 and received[-1] == spec.num_classes:
            message += " (the labels look one-hot: store class ids, or use a categorical loss)"
        elif spec.label_kind == "categorical" and not one_hot and len(received) == len(expected) - 1:
            message += " (class ids are one-hot encoded only when they are integers)"
        elif spec.shape[1:] and all(isinstance(d, int) for d in spec.shape[1:]) and math.prod(received[1:]) == math.prod(spec.shape[1:]):
            message += f" (same number of values per sample: reshape it to {_shape_text(spec.shape)})"
        self.fail(message)
        return False

    def values(self, spec: ArraySpec, array: np.ndarray, label: str, one_hot: bool) -> bool:
        if array.dtype.kind == "f":
            count, first, _ = _first_bad(array, lambda c: ~np.isfinite(c))
            if count:
                n_nan = _first_bad(array, np.isnan)[0]
                parts = [f"{n} {kind}" for n, kind in ((n_nan, "NaN"), (count - n_nan, "infinite")) if n]
                self.fail(f"{label} has {' and '.join(parts)} value(s), the first at index {_index_text(first)}")
                return False
        ok = True
        if spec.dtype != "float32" and array.dtype.kind == "f":
            count, index, value = _first_bad(array, lambda c: c != np.floor(c))
            if count:
                self.fail(
                    f"{label} has dtype {array.dtype} with {count} non-integer value(s), the first {_scalar(value)} at index "
                    f"{_index_text(index)}; the model's {spec.role} '{spec.name}' takes integers ({spec.dtype})"
                )
                ok = False
        if one_hot or spec.label_kind == "sparse":
            ok = self.range(spec, array, label, 0, spec.num_classes, "class ids") and ok
        elif spec.label_kind in ("binary", "categorical") or spec.dtype == "bool" and array.dtype.kind != "b":
            ok = self.range(spec, array, label, 0, 1, "values", closed=True) and ok
        elif spec.high is not None and spec.dtype != "float32":
            ok = self.range(spec, array, label, 0, spec.high, "values") and ok
        elif spec.dtype in ("int32", "int64") and array.dtype != np.dtype(spec.dtype) and array.dtype.kind != "b":
            info = np.iinfo(spec.dtype)
            ok = self.range(spec, array, label, int(info.min), int(info.max) + 1, f"{spec.dtype} values") and ok
        return ok

    def range(self, spec: ArraySpec, array: np.ndarray, label: str, low: int, high: int, what: str, closed: bool = False) -> bool:
        interval = f"[{low}, {high}]" if closed else f"[{low}, {high})"
        outside = (lambda c: (c < low) | (c > high)) if closed else (lambda c: (c < low) | (c >= high))
        count, index, value = _first_bad(array, outside)
        if not count:
            return True
        kind = f" for a {spec.label_kind} target" if spec.label_kind else ""
        bound = f" (input_dim {spec.high})" if spec.high is not None and spec.role == "input" else ""
        self.fail(
            f"{label} has {count} {what} outside {interval}{kind}{bound}, the first {_scalar(value)} at index {_index_text(index)}"
        )
        return False

    def lengths(self, arrays: dict[str, np.ndarray], expected: list[ArraySpec]) -> None:
        sizes = {name: int(a.shape[0]) for name, a in arrays.items() if a.ndim}
        if len(set(sizes.values())) > 1:
            listed = ", ".join(f"'{name}' {n}" + (f" (from {self.origins[name]})" if name in self.origins else "") for name, n in sizes.items())
            self.fail(f"the arrays have different numbers of samples: {listed}")
            return
        n = next(iter(sizes.values()), None)
        if n == 0:
            self.fail(f"the data has no samples ({', '.join(sizes)} have length 0)")
            return
        batches = {s.shape[0] for s in expected if isinstance(s.shape[0], int)}
        for batch in sorted(batches):
            if n is not None and n % batch:
                down, up = n - n % batch, n - n % batch + batch
                self.fail(
                    f"{n} samples is not a multiple of the model's fixed batch size {batch} "
                    f"(a stateful model needs full batches): use {down} or {up} samples"
                )


def _dims(rank: int) -> str:
    return f"{rank} dimension" + ("" if rank == 1 else "s")


def _is_integral(array: np.ndarray) -> bool:
    return array.dtype.kind in "biu" or (array.dtype.kind == "f" and _first_bad(array, lambda c: ~np.isfinite(c) | (c != np.floor(c)))[0] == 0)


def _scalar(value: Any) -> str:
    item = value.item() if isinstance(value, np.generic) else value
    return repr(item)


def check_arrays(arrays: dict[str, np.ndarray], expected: list[ArraySpec], where: str, *, force: bool = False) -> dict[str, np.ndarray]:
    """Check arrays against the model's expectations before any training; return them conformed.

    Every problem is collected and raised as one DataError (one line each, prefixed with `where`,
    e.g. "data.train"): missing or unexpected arrays, rank and shape, dtype, NaN/inf, sample
    counts, class ids and label ranges, and the fixed batch size of a stateful model. The result
    holds the arrays in the expected dtype and shape (see the module docstring for the rules);
    an array already conforming is returned unchanged, so a memory map stays a memory map. A
    conversion that would not fit in the memory available is a ResourceError, unless `force`.
    """
    checker = _Checker(arrays, where, force=force)
    checker.names(expected)
    conformed = Arrays(origins=getattr(arrays, "origins", {}))
    for spec in expected:
        if spec.name in arrays:
            array = arrays[spec.name]
            if not isinstance(array, np.ndarray):
                array = np.asarray(array)
            result = checker.conform(spec, array)
            if result is not None:
                conformed[spec.name] = result
    present = {s.name: arrays[s.name] for s in expected if s.name in arrays and hasattr(arrays[s.name], "ndim")}
    checker.lengths(present, expected)
    if checker.problems:
        raise DataError("\n".join(checker.problems))
    return conformed


def split_validation(arrays: dict[str, np.ndarray], fraction: float) -> tuple[Arrays, Arrays]:
    """Keras's `validation_split`: the last `fraction` of the samples (taken before any shuffling) for validation.

    Slices are views: memory maps stay memory maps.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), received {fraction}")
    sizes = {int(a.shape[0]) for a in arrays.values()}
    if not sizes:
        raise DataError("no arrays to split")
    if len(sizes) != 1:
        raise DataError(f"cannot split arrays of different lengths: {sorted(sizes)}")
    n = sizes.pop()
    split_at = int(math.floor(n * (1.0 - fraction)))
    if split_at == 0 or split_at == n:
        raise DataError(
            f"{n} samples are too few to split with validation_split={fraction}: "
            f"it leaves {split_at} for training and {n - split_at} for validation"
        )
    origins = getattr(arrays, "origins", {})
    train = Arrays({k: a[:split_at] for k, a in arrays.items()}, origins=origins)
    val = Arrays({k: a[split_at:] for k, a in arrays.items()}, origins=origins)
    return train, val
