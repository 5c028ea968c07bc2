"""`{table: income/train.csv}`: the model's inputs and targets read from the columns of a table file.

    data:
      columns: {numeric: [age, hours-per-week, education_years], label: income}
      train: {table: income/train.csv}          # .csv .tsv .jsonl (also .gz), .parquet, .arrow / .feather

Each input and output reads the columns `data.columns` lists for it (default: the column of its
own name), stacked in order as one row of its values and shaped like it ((n, 3) for `shape: [3]`);
the other columns are never converted. Numbers, booleans and decimals are taken; a missing column
(with a did-you-mean from the header), an empty cell, a cell that is not a number (its data row,
1-based without the header, and its text) and a string column (which needs a vocabulary: not yet)
are problems naming the file. Sizes come first: a text table must fit whole (its decompressed text),
a Parquet file's largest row group, and every array before it is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from modelspec.data.arrays import ArraySpec
from modelspec.data.config import TableSource
from modelspec.data.reader import Reader
from modelspec.data.tables import (
    TableFile,
    TableProblem,
    column_values,
    first_non_number,
    first_null,
    is_null,
    is_numeric,
    is_text,
    numpy_dtype,
    open_table,
    quoted,
    rows_text,
    values_per_row,
)
from modelspec.errors import did_you_mean, format_choices
from modelspec.resources import ResourceError, fits


def read(reader: Reader, source: TableSource) -> None:
    """Add one array per input (and target) from the table's columns."""
    path = reader.resolve(source.table)
    if not reader.exists(path, source.table):
        return
    specs = reader.inputs + reader.targets
    wanted = {spec.name: source.columns_of(spec.name) for spec in specs}
    try:
        table = _open(reader, path, source.table)
        if not _columns_present(reader, table, specs, wanted, source.mapped) or not _widths_fit(reader, table, specs, wanted):
            return
        needed = list(dict.fromkeys(c for columns in wanted.values() for c in columns))
        kinds = _column_types(reader, table, needed, wanted)
        if kinds is None:
            return
        _read_arrays(reader, table, specs, wanted, kinds)
    except TableProblem as problem:
        reader.fail(str(problem))


def _open(reader: Reader, path: Path, written: str) -> TableFile:
    """The table with its header read; a text table is refused (ResourceError) when it cannot be held whole."""
    try:
        return open_table(path, written, available=None if reader.force else fits(0)[1])
    except ResourceError as refused:
        raise ResourceError(f"data.{reader.split}: {refused}") from None


def _role(spec: ArraySpec) -> str:
    return "input" if spec.role == "input" else "output"


def _columns_present(reader: Reader, table: TableFile, specs: list[ArraySpec], wanted: dict[str, list[str]], mapped: set[str]) -> bool:
    """A problem for each column the table lacks (or names twice), with a did-you-mean from its header;
    `mapped`: the names data.columns maps (the others read the column of their own name)."""
    names, ok = table.names, True
    for spec in specs:
        for column in wanted[spec.name]:
            if names.count(column) > 1:
                reader.fail(f"'{table.written}' has {names.count(column)} columns named '{column}' (for {_role(spec)} '{spec.name}'): rename one")
                ok = False
            elif column not in names:
                how = f"listed in data.columns.{spec.name}" if spec.name in mapped else f"the column of its name: data.columns.{spec.name} can name another"
                reader.fail(f"'{table.written}' has no column '{column}' for {_role(spec)} '{spec.name}' ({how})"
                            f"{did_you_mean(column, names)}; its columns: {format_choices(names)}{_delimiter_hint(table)}")
                ok = False
    return ok


def _delimiter_hint(table: TableFile) -> str:
    """A header read as one column holding another separator: the file is not separated as its name says."""
    if len(table.names) != 1 or table.format not in ("csv", "tsv"):
        return ""
    found = [sep for sep in (";", "\t", ",", "|") if sep in table.names[0]]
    expected = "tabs" if table.format == "tsv" else "commas"
    return f" (the header is one column: is the file separated by {found[0]!r}? a .{table.format} is separated by {expected})" if found else ""


def _widths_fit(reader: Reader, table: TableFile, specs: list[ArraySpec], wanted: dict[str, list[str]]) -> bool:
    """A problem for an input whose shape takes another number of values than its columns give."""
    ok = True
    for spec in specs:
        values, columns = values_per_row(spec.shape[1:]), wanted[spec.name]
        ids = spec.role == "target" and len(columns) == 1  # class ids (one-hot encoded later) or one value a row
        if values is not None and values != len(columns) and not ids:
            listed = ", ".join(f"'{c}'" for c in columns)
            example = table.names[:values] if len(table.names) >= values else [f"column_{i + 1}" for i in range(values)]
            reader.fail(f"{_role(spec)} '{spec.name}' has shape {spec.shape_text}, {values} value(s) a row, but reads "
                        f"{len(columns)} column(s) of '{table.written}' ({listed}): list {values} columns for it in data.columns, "
                        f"e.g. data.columns: {{{spec.name}: [{', '.join(example)}]}}")
            ok = False
    return ok


def _column_types(reader: Reader, table: TableFile, needed: list[str], wanted: dict[str, list[str]]) -> dict[str, Any] | None:
    """Each needed column's pyarrow type, or None after a problem for each column that holds no numbers."""
    schema = table.schema(needed)
    if table.num_rows == 0:
        reader.fail(f"'{table.written}' has no data rows" + (" (only a header)" if table.format in ("csv", "tsv") else ""))
        return None
    users = {column: name for name, columns in wanted.items() for column in columns}
    ok = True
    for column in needed:
        kind = schema.field(column).type
        if is_numeric(kind):
            continue
        ok = False
        spec = next(s for s in reader.inputs + reader.targets if s.name == users[column])
        reader.fail(_not_numbers(table, column, kind, spec))
    return {column: schema.field(column).type for column in needed} if ok else None


def _not_numbers(table: TableFile, column: str, kind: Any, spec: ArraySpec) -> str:
    """Why a column cannot feed `spec`: text (its first non-number, its row, and string columns' future), or another type."""
    head = f"'{table.written}' column '{column}' (for {_role(spec)} '{spec.name}')"
    if is_null(kind):
        return f"{head} is empty in every row: expected numbers"
    if not is_text(kind):
        return f"{head} holds {kind} values, expected numbers ({spec.dtype})"
    for start, piece in table.pieces([column]):
        found = first_non_number(piece.column(column))
        if found is not None:
            index, text, count = found
            rows = table.num_rows if table.num_rows is not None else None
            share = f"{count:,} of {rows:,} rows are not numbers" if rows is not None else f"{rows_text(count)} not numbers here"
            cell = "an empty cell" if text == "" else quoted(text)
            mostly_text = rows is not None and count * 2 > rows
            if spec.role == "target":
                future = ("a string target column is encoded through a vocabulary adapted from the training data, "
                          "which modelspec cannot do yet: encode the labels as class ids (0, 1, ...)")
            else:
                future = ("a string column needs a vocabulary (an input with dtype: string and a StringLookup layer), "
                          "which modelspec cannot do yet: encode it as numbers")
            what = future if mostly_text else f"expected a number ({spec.dtype})"
            return f"{head} holds text where numbers are wanted: {cell} at data row {start + index + 1:,} (1-based, the header not counted; {share}); {what}"
    return f"{head} holds text ({kind}) where numbers are wanted ({spec.dtype})"


def _read_arrays(reader: Reader, table: TableFile, specs: list[ArraySpec], wanted: dict[str, list[str]], kinds: dict[str, Any]) -> None:
    """Fill one array per spec a piece of the table at a time (every size checked before anything is made)."""
    rows = table.num_rows
    reader.allocate(table.piece_bytes(list(kinds)), f"a row group of '{table.written}' (uncompressed)")
    dtypes = {spec.name: _dtype(spec, [kinds[c] for c in wanted[spec.name]]) for spec in specs}
    for spec in specs:
        columns = wanted[spec.name]
        reader.allocate(rows * len(columns) * np.dtype(dtypes[spec.name]).itemsize,
                        f"{_role(spec)} '{spec.name}' ({rows:,} rows x {len(columns)} column(s) of '{table.written}', {dtypes[spec.name]})")
    arrays = {spec.name: np.empty((rows, len(wanted[spec.name])), dtype=dtypes[spec.name]) for spec in specs}
    users = [(spec, j, column) for spec in specs for j, column in enumerate(wanted[spec.name])]
    for start, piece in table.pieces(list(kinds)):
        for spec, j, column in users:
            values = piece.column(column)
            if values.null_count:
                at = start + first_null(values) + 1
                reader.fail(f"'{table.written}' column '{column}' (for {_role(spec)} '{spec.name}') has an empty cell at data row {at:,} "
                            f"(1-based, the header not counted; {rows_text(values.null_count)} empty in rows {start + 1:,} to "
                            f"{start + len(values):,}): fill it, or leave the row out")
                return
            arrays[spec.name][start : start + len(values), j] = column_values(values)
    for spec in specs:
        columns = ", ".join(f"'{c}'" for c in wanted[spec.name])
        reader.add(spec.name, _shaped(spec, arrays[spec.name]), f"{table.written} column{'s' if len(wanted[spec.name]) > 1 else ''} {columns}")


def _dtype(spec: ArraySpec, kinds: list[Any]) -> str:
    """The array's dtype: a float input's own (float32: no second copy); else one holding the values exactly
    (int64, float64, bool), converted and range-checked by modelspec.data.checks."""
    if spec.role == "input" and spec.dtype == "float32":
        return "float32"
    return numpy_dtype(kinds)


def _shaped(spec: ArraySpec, array: np.ndarray) -> np.ndarray:
    """(rows, k) values in the spec's shape: (rows, *dims) when they hold k values a row; one target column as (rows,)."""
    dims = spec.shape[1:]
    values = values_per_row(dims)
    if spec.role == "target" and array.shape[1] == 1:
        return array.reshape(len(array))
    if values == array.shape[1]:
        return array.reshape((len(array), *dims))
    return array

