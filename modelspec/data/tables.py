"""Table files read with pyarrow: the header, sizes before reads, and the needed columns a piece at a time.

    table = open_table(path, "income/train.csv", available=limit)   # TableProblem, ResourceError
    table.names                                   # the header: ['age', 'workclass', ...]
    table.num_rows, table.schema(["age"])         # Parquet / Arrow: from the metadata, before any data
    for start, piece in table.pieces(["age", "hours-per-week"]): ...   # (first row, pyarrow Table or RecordBatch)

Formats (by name, modelspec.data.config.table_format): `.csv` and `.tsv` with a header row (quoted
cells, typed and multi-threaded by pyarrow's reader), `.jsonl` (one object a line), each also
`.gz`, read whole but only their needed columns; `.parquet`, read a row group at a time; `.arrow` /
`.feather` (Arrow IPC files), memory-mapped and read a record batch at a time. Rows are counted as
"data rows": 1-based, the header not counted (a JSON line's row is its line when no line is blank).

pyarrow is imported here, so only when a table is read: validating a spec never loads it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from modelspec.data.config import table_format
from modelspec.resources import FORCE_HINT, ResourceError, readable_size

#: Compressed text is counted (to refuse what would not fit before reading it) in chunks this big.
COUNT_CHUNK_BYTES = 16 * 1024 * 1024
#: Rows a Parquet read hands over at a time (within a row group).
PARQUET_BATCH_ROWS = 64 * 1024
#: Number syntax of a text cell (what pyarrow's CSV reader parses as int64 or double), to find the first text that is not one.
NUMBER_PATTERN = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


class TableProblem(Exception):
    """A table that cannot be read as asked: the message names the file (and the column and row)."""


def pyarrow_words(error: BaseException) -> str:
    """pyarrow's message, without its prefixes and trailing detail lines."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.removeprefix("CSV parse error: ").removeprefix("JSON parse error: ")


class TableFile:
    """One table file: its header (`names`), its row count when the format stores it, its needed columns' pieces.

    Text formats (csv, tsv, jsonl) are parsed whole when `pieces` is first asked (only the needed
    columns of a CSV are converted); Parquet row groups and Arrow record batches are read one at a time.
    """

    def __init__(self, path: Path, written: str):
        self.path = path
        self.written = written
        self.format, self.compressed = table_format(written) or ("csv", False)
        self._text: pa.Table | None = None
        self.names: list[str] = []
        self.num_rows: int | None = None

    # -- opening ----------------------------------------------------------------------------
    def open(self, available: int | None) -> TableFile:
        """Read the header (and the metadata of columnar formats); ResourceError when what must be held whole cannot fit."""
        if self.format in ("csv", "tsv"):
            self._check_text_size(available)
            self.names = self._csv_header()
        elif self.format == "jsonl":
            self._check_text_size(available)
            self._text = self._read_json()
            self.names, self.num_rows = list(self._text.column_names), self._text.num_rows
        elif self.format == "parquet":
            self._open_parquet()
        else:
            self._open_arrow()
        return self

    def _check_text_size(self, available: int | None) -> None:
        """A text table is parsed whole: refuse one whose (decompressed) text exceeds the memory available.
        A .gz is counted as it decompresses, a chunk at a time, up to that limit (gzip's own size field
        is the size modulo 4 GiB of the last member only, so it cannot be trusted)."""
        if available is None:
            return
        size = self.path.stat().st_size
        if self.compressed:
            size = self._decompressed_size(available)
        if size > available:
            more = "more than " if self.compressed else ""
            raise ResourceError(f"'{self.written}' holds {more}{readable_size(size)} of text, read whole: more than the "
                                f"{readable_size(available)} of memory available here (Parquet is read a row group at a time); {FORCE_HINT}")

    def _decompressed_size(self, limit: int) -> int:
        total = 0
        try:
            with pa.input_stream(str(self.path), compression="gzip") as stream:
                while total <= limit:
                    chunk = stream.read(COUNT_CHUNK_BYTES)
                    if not chunk:
                        break
                    total += len(chunk)
        except (pa.ArrowException, OSError) as error:
            raise TableProblem(f"cannot read '{self.written}' as gzip-compressed text: {pyarrow_words(error)}") from None
        return total

    def _csv_options(self, **convert: Any) -> dict[str, Any]:
        from pyarrow import csv

        delimiter = "\t" if self.format == "tsv" else ","
        return {"parse_options": csv.ParseOptions(delimiter=delimiter), "convert_options": csv.ConvertOptions(**convert)}

    def _csv_header(self) -> list[str]:
        from pyarrow import csv

        try:
            with csv.open_csv(str(self.path), **self._csv_options(column_types={}, include_columns=[])) as stream:
                names = list(stream.schema.names)
        except (pa.ArrowException, OSError) as error:
            raise self._text_problem(error) from None
        return names

    def _text_problem(self, error: BaseException) -> TableProblem:
        words = pyarrow_words(error)
        if "Empty CSV file" in words:
            return TableProblem(f"'{self.written}' is empty: expected a header row naming the columns, then the data rows")
        if "Expected" in words and "columns, got" in words:
            return TableProblem(self._ragged_message(words))
        kind = {"csv": "a CSV table", "tsv": "a TSV table", "jsonl": "JSON lines"}[self.format]
        return TableProblem(f"cannot read '{self.written}' as {kind}: {words}")

    def _ragged_message(self, words: str) -> str:
        """pyarrow's "Expected 3 columns, got 2" with the row: the file is parsed again on one thread to number it."""
        from pyarrow import csv

        found: list[Any] = []

        def first_invalid(row: Any) -> str:
            found.append(row)
            return "error"

        options = self._csv_options(column_types={}, include_columns=[])
        options["parse_options"].invalid_row_handler = first_invalid
        try:
            csv.read_csv(str(self.path), read_options=csv.ReadOptions(use_threads=False), **options)
        except (pa.ArrowException, OSError):
            pass
        if not found or found[0].number is None:
            return f"'{self.written}' has rows of different lengths: {words}"
        row = found[0]
        return (f"'{self.written}' data row {row.number - 1:,} (1-based, the header not counted) has {row.actual_columns} cell(s), "
                f"but the header names {row.expected_columns} column(s): {_quoted(row.text)}")

    def _read_json(self) -> pa.Table:
        from pyarrow import json

        try:
            return json.read_json(str(self.path))
        except (pa.ArrowException, OSError) as error:
            raise self._text_problem(error) from None

    def _open_parquet(self) -> None:
        import pyarrow.parquet as pq

        try:
            self._parquet = pq.ParquetFile(str(self.path), memory_map=True)
        except (pa.ArrowException, OSError) as error:
            raise TableProblem(f"cannot read '{self.written}' as a Parquet file: {pyarrow_words(error)}") from None
        self.names = list(self._parquet.schema_arrow.names)
        self.num_rows = self._parquet.metadata.num_rows

    def _open_arrow(self) -> None:
        try:
            self._arrow = pa.ipc.open_file(pa.memory_map(str(self.path)))
        except (pa.ArrowException, OSError) as error:
            raise TableProblem(f"cannot read '{self.written}' as an Arrow IPC (Feather v2) file: {pyarrow_words(error)}") from None
        self.names = list(self._arrow.schema.names)
        self.num_rows = sum(self._arrow.get_batch(i).num_rows for i in range(self._arrow.num_record_batches))

    # -- reading ----------------------------------------------------------------------------
    def piece_bytes(self, columns: list[str]) -> int:
        """Bytes one piece of `columns` takes while it is converted: the largest Parquet row group's
        (uncompressed, from the metadata); 0 for the other formats (a text table is held already, an Arrow file is mapped)."""
        if self.format != "parquet":
            return 0
        metadata, wanted = self._parquet.metadata, set(columns)
        groups = (metadata.row_group(g) for g in range(metadata.num_row_groups))
        return max((sum(g.column(c).total_uncompressed_size for c in range(g.num_columns) if g.column(c).path_in_schema in wanted)
                    for g in groups), default=0)

    def schema(self, columns: list[str]) -> pa.Schema:
        """The types of `columns` (a text table is parsed here, once)."""
        if self.format in ("csv", "tsv", "jsonl"):
            table = self._text_table(columns)
            return pa.schema([table.schema.field(c) for c in columns])
        schema = self._parquet.schema_arrow if self.format == "parquet" else self._arrow.schema
        return pa.schema([schema.field(c) for c in columns])

    def pieces(self, columns: list[str]) -> Iterator[tuple[int, Any]]:
        """(first row, piece) over the table: pyarrow Tables or RecordBatches holding `columns`."""
        if self.format in ("csv", "tsv", "jsonl"):
            yield 0, self._text_table(columns)
            return
        start = 0
        try:
            if self.format == "parquet":
                batches = self._parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns)
            else:
                batches = (self._arrow.get_batch(i).select(columns) for i in range(self._arrow.num_record_batches))
            for batch in batches:
                yield start, batch
                start += batch.num_rows
        except (pa.ArrowException, OSError) as error:
            raise TableProblem(f"cannot read '{self.written}' after row {start:,}: {pyarrow_words(error)}") from None

    def _text_table(self, columns: list[str]) -> pa.Table:
        if self._text is None:
            from pyarrow import csv

            try:
                self._text = csv.read_csv(str(self.path), **self._csv_options(include_columns=columns))
            except (pa.ArrowException, OSError) as error:
                raise self._text_problem(error) from None
            self.num_rows = self._text.num_rows
        return self._text


def open_table(path: Path, written: str, *, available: int | None) -> TableFile:
    """The table file at `path` (`written` in the spec), its header read; `available`: bytes a whole read may take (None: unchecked)."""
    return TableFile(path, written).open(available)


# ----- columns to numbers ------------------------------------------------------------------
def is_numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_decimal(kind)


def is_null(kind: pa.DataType) -> bool:
    """A column pyarrow found no value in (every cell empty)."""
    return pa.types.is_null(kind)


def is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or getattr(pa.types, "is_string_view", lambda _: False)(kind)


def numpy_dtype(kinds: list[pa.DataType]) -> str:
    """The NumPy dtype holding every value of columns of these (numeric) types exactly: bool, int64 or float64."""
    if all(pa.types.is_boolean(k) for k in kinds):
        return "bool"
    if all(pa.types.is_integer(k) or pa.types.is_boolean(k) for k in kinds):
        return "int64"
    return "float64"


def column_values(column: Any) -> Any:
    """A numeric pyarrow column (without nulls) as a NumPy array (zero-copy where pyarrow can)."""
    if pa.types.is_decimal(column.type):
        import pyarrow.compute as pc

        column = pc.cast(column, pa.float64())
    return column.to_numpy(zero_copy_only=False)


def first_null(column: Any) -> int:
    """Index of the first null of a column that has some."""
    import pyarrow.compute as pc

    return int(pc.index(pc.is_null(column), True).as_py())


def first_non_number(column: Any) -> tuple[int, str, int] | None:
    """(index, text, count) of the first cell of a text column that is no number (empty cells included), or None."""
    import pyarrow.compute as pc

    numbers = pc.fill_null(pc.match_substring_regex(column, NUMBER_PATTERN), False)
    bad = pc.invert(numbers)
    count = int(pc.sum(bad).as_py() or 0)
    if not count:
        return None
    index = int(pc.index(bad, True).as_py())
    value = column[index].as_py() if hasattr(column, "__getitem__") else None
    return index, "" if value is None else str(value), count


def _quoted(text: str, limit: int = 80) -> str:
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text):,} characters)"


def quoted(text: str) -> str:
    """A received cell as messages quote it: up to 80 characters, else its start and its length."""
    return _quoted(text)


def rows_text(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


def values_per_row(dims: tuple) -> int | None:
    """Values one row of an array of these (non-batch) dimensions holds; None when a dimension is unknown."""
    return math.prod(dims) if all(isinstance(d, int) for d in dims) else None
