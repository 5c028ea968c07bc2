"""The file formats a source reads, below the Reader: `.npz` member headers, read errors in words, numeric CSV.

    shape, dtype, stored = npy_layout(zipfile.ZipFile(path), "x.npy")   # from the header alone
    values, text_bytes = csv_values(path, limit)                        # counted a chunk at a time
    table = read_csv(path)                                             # float64 (rows, columns)

A CSV holds numbers only; a first row without any number is a header. A CSV that does not parse
is read again slowly to name the line and column (CsvProblem).
"""

from __future__ import annotations

import csv
import gzip
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from modelspec.data.arrays import CHUNK_BYTES

#: Bytes a CSV number takes once read (float64).
CSV_VALUE_BYTES = 8
_HEADER_CHARS = 64 * 1024  # a CSV's first row is read this far to tell a header from numbers
#: What reading a data file may raise: reported as a problem of that file (`reason` says it in words).
READ_ERRORS = (OSError, ValueError, EOFError, RuntimeError, KeyError, zipfile.BadZipFile, zlib.error, csv.Error)


def npy_layout(archive: zipfile.ZipFile, name: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, bytes after the header) of an .npy member, from its header alone: nothing more is inflated."""
    info = archive.getinfo(name)
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise ValueError(f"the .npy format version {version[0]}.{version[1]} is not supported (1.0 or 2.0 expected)")
        shape, _, dtype = read_header(member)
        return shape, dtype, info.file_size - member.tell()


def reason(exc: BaseException) -> str:
    """Why a file could not be read, in words (pickled data, truncation, a corrupt archive)."""
    text = str(exc).strip() or type(exc).__name__
    if "pickled" in text or "allow_pickle" in text:
        return "not a NumPy file, or it holds Python objects (pickled data is never loaded)"
    if "mmap length is greater than file size" in text:
        return "the file is truncated (shorter than its header says)"
    if isinstance(exc, (zipfile.BadZipFile, zlib.error)):
        return f"the archive is corrupt or truncated ({text})"
    if isinstance(exc, EOFError):
        return f"the file is truncated ({text})"
    return text


class CsvProblem(Exception):
    """A CSV that is no numeric table; the message says where (line, column) and why."""


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


def csv_values(path: Path, limit: int | None) -> tuple[int, int]:
    """(an upper bound of the numbers in a CSV: commas + line ends + 1, the bytes of text read): counted
    a chunk at a time on the decompressed text, stopping once past `limit`."""
    values, size = 1, 0
    with (gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")) as raw:
        while chunk := raw.read(CHUNK_BYTES):
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


def read_csv(path: Path) -> np.ndarray:
    """A numeric CSV as a float64 (rows, columns) array; a first row with no number is a header."""
    with _open_text(path) as text:
        first = _first_row(text)
    if first is None:
        raise CsvProblem("the file is empty")
    header = not any(_is_number(cell) for cell in first)
    try:  # fast path in C; on failure, a slow pass finds the line and column to report
        with _open_text(path) as text, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": reported below
            table = np.loadtxt(text, delimiter=",", skiprows=int(header), ndmin=2, dtype=np.float64, comments=None, quotechar='"')
    except ValueError:
        _diagnose_csv(path, header)
        raise
    if table.shape[0] == 0:
        raise CsvProblem("it has a header row and no data")
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
                raise CsvProblem(f"line {line} has {len(row)} columns, the rows before it {width}")
            for column, cell in enumerate(row, start=1):
                if not _is_number(cell):
                    shown = "an empty cell" if not cell.strip() else f"'{cell[:40]}' is not a number"
                    raise CsvProblem(f"line {line}, column {column}: {shown}")
