"""The Reader a source form's reader is given: the model's expectations, file reads, problems collected.

    reader.read_single("x.npy")                      # memory-mapped; .npz (its only array, or by name), .csv
    reader.add("features", array, origin="x.npy")    # the origin names the array in messages
    reader.fail("...")                               # "data.train: ..."; load_source raises them together

Files: `.npy` (memory-mapped, never read whole), `.npz` (only the needed keys are read; a file
with one array needs no key, otherwise `file.npz:key` or the mapping's name picks it), `.csv` or
`.csv.gz` (numbers only; a first row without any number is a header). Relative paths are
resolved against the spec file's directory; a path that is not a regular file (a FIFO, a device,
a symbolic link loop) is refused, saying what it is. Sizes come before reads (`ResourceError`
past the memory available, unless `force`): an `.npz` member's from its `.npy` header (a header
declaring more than the member holds is corrupt), a CSV's numbers (8 bytes each) counted on its
decompressed text a chunk at a time.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from modelspec.data.arrays import Arrays, ArraySpec, shape_text
from modelspec.data.config import split_key
from modelspec.data.formats import CSV_VALUE_BYTES, READ_ERRORS, CsvProblem, csv_values, npy_layout, read_csv, reason
from modelspec.errors import did_you_mean, format_choices
from modelspec.paths import PathProblem, check_regular
from modelspec.resources import FORCE_HINT, ResourceError, check_allocation, fits, readable_size


class Reader:
    """Reads one data source for a source form's reader, collecting every file problem before raising.

    `inputs` and `targets` are the model's expectations; a reader `add`s the arrays it reads (with
    their origin, for messages), `fail`s with a problem (prefixed with `data.<split>`), `allocate`s
    before it makes an array, and reads files with `read_single` (`.npy`, `.npz`, `file.npz:key`,
    `.csv`) or `npz_members` / `read_npz_member`.
    """

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
        path_text, key = split_key(written)
        path = self.resolve(path_text)
        if not self.exists(path, path_text):
            return None
        lower = path_text.lower()
        if lower.endswith(".npy"):
            return self._read_npy(path, path_text)
        if lower.endswith((".csv", ".csv.gz")):
            return self._read_csv(path, path_text)
        members = self.npz_members(path, path_text)
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
        return self.read_npz_member(path, path_text, key)

    def exists(self, path: Path, written: str) -> bool:
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
        except READ_ERRORS as exc:
            self.fail(f"cannot read '{written}' as a .npy array: {reason(exc)}")
            return None
        if not isinstance(array, np.ndarray):  # an .npz archive under a .npy name
            self.fail(f"cannot read '{written}' as a .npy array: it is an .npz archive")
            return None
        return array

    def npz_members(self, path: Path, written: str) -> list[str] | None:
        try:
            archive = np.load(path, mmap_mode="r", allow_pickle=False)  # mmap_mode: a .npy in disguise is not read
        except READ_ERRORS as exc:
            self.fail(f"cannot read '{written}' as an .npz archive: {reason(exc)}")
            return None
        if isinstance(archive, np.ndarray):
            self.fail(f"cannot read '{written}' as an .npz archive: it is a single .npy array (rename it to .npy)")
            return None
        with archive:
            return list(archive.files)

    def read_npz_member(self, path: Path, written: str, key: str) -> np.ndarray | None:
        """One member, once its header's size is checked against the archive and the available memory."""
        what = f"array '{key}' of '{written}'"
        try:
            with np.load(path, allow_pickle=False) as archive:
                return archive[key] if self._member_fits(archive.zip, f"{key}.npy", what) else None
        except MemoryError:
            raise ResourceError(f"data.{self.split}: {what} did not fit in the memory available here") from None
        except READ_ERRORS as exc:
            self.fail(f"cannot read {what}: {reason(exc)}")
            return None

    def _member_fits(self, archive: zipfile.ZipFile, name: str, what: str) -> bool:
        """False (a problem) for a member that is no .npy array or holds less than its header declares;
        ResourceError when its data would not fit in memory."""
        if name not in archive.namelist():
            self.fail(f"cannot read {what}: it is not a .npy array (a raw file inside the archive)")
            return False
        shape, dtype, stored = npy_layout(archive, name)
        needed = math.prod(shape) * dtype.itemsize
        layout = f"shape {shape_text(shape)}, {dtype}"
        if needed > stored:
            self.fail(f"cannot read {what}: its header declares {layout} ({readable_size(needed)}), but it holds "
                      f"{stored:,} bytes: the archive is corrupt or truncated")
            return False
        self.allocate(needed, f"{what} ({layout})")
        return True

    def _read_csv(self, path: Path, written: str) -> np.ndarray | None:
        try:
            self._csv_fits(path, written)
            return read_csv(path)
        except CsvProblem as problem:
            self.fail(f"cannot read '{written}' as a numeric CSV: {problem}")
        except READ_ERRORS as exc:
            self.fail(f"cannot read '{written}' as a numeric CSV: {reason(exc)}")
        return None

    def _csv_fits(self, path: Path, written: str) -> None:
        """ResourceError when the CSV's numbers, as float64, would not fit in memory: they are counted on
        the (decompressed) text, read a chunk at a time and only up to what would fit."""
        _, available = fits(0, force=self.force)
        limit = None if self.force or available is None else available // CSV_VALUE_BYTES
        values, text_bytes = csv_values(path, limit)
        if limit is not None and values > limit:
            raise ResourceError(
                f"data.{self.split}: '{written}' holds more than {limit:,} numbers (in its first {readable_size(text_bytes)} "
                f"of text): as float64 they would take more than the {readable_size(available)} of memory available here; {FORCE_HINT}"
            )

