"""The `data:` section's source forms and their registry (pydantic, no numpy: validating a spec stays light).

    train: data/train.npz
    train: {x: {image: x.npy, meta: m.csv}, y: {label: y.npz:label}}
    train: {dataset: digits}
    train: {synthetic: {samples: 256, seed: 0}}
    train: {table: income/train.csv}      # .csv .tsv .jsonl (also .gz), .parquet, .arrow / .feather
    columns: {numeric: [age, hours-per-week], label: income}   # data.columns: input/output -> table columns

Each form is registered once, with `data_source`: its tag in the union, its schema, how a YAML
value is recognised as it (a string, or a mapping holding a key) and the function that reads it
(named by import path, so this module stays free of numpy). `source_union()` builds the type of
`data.train`, `data.validation` and `data.test` from the registry; `DataSource` is that union.
Reading the arrays is modelspec.data.loading's job, checking them modelspec.data.checks'.

    @data_source(form="{dataset: digits}", key="dataset", reader="modelspec.data.sources.dataset:read")
    class DatasetSource(StrictModel): ...
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, Union

from pydantic import AfterValidator, Discriminator, Field, PrivateAttr, Tag

from modelspec.config import Identifier, NonNegativeInt, PositiveInt, StrictModel

FILE_SUFFIXES = (".npy", ".npz", ".csv", ".csv.gz")
#: The files `{table: ...}` reads, by format: text formats with a header (csv, tsv) or one object a line (jsonl),
#: each also gzip-compressed (.gz), and the columnar formats (Parquet; Arrow IPC, whose files are memory-mapped).
TABLE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".arrow": "arrow", ".feather": "arrow"}
#: Text formats may be compressed as `.gz` (read as they are decompressed).
COMPRESSED_TABLE_FORMATS = ("csv", "tsv", "jsonl")


def split_key(text: str) -> tuple[str, str | None]:
    """'a.npz:key' -> ('a.npz', 'key'); anything else -> (text, None)."""
    path, sep, key = text.rpartition(":")
    if sep and path.lower().endswith(".npz") and key and not re.search(r"[/\\]", key):
        return path, key
    return text, None


def _check_file(text: str) -> str:
    path, _ = split_key(text)
    if not path.lower().endswith(FILE_SUFFIXES):
        raise ValueError(f"'{text}' is not a data file: expected a name ending in {', '.join(FILE_SUFFIXES)} (or file.npz:key)")
    return text


def _check_npz(text: str) -> str:
    if not text.lower().endswith(".npz"):
        raise ValueError(f"'{text}' is not an .npz file: a single path must be an .npz archive holding every array (or use {{x: ..., y: ...}})")
    return text


#: A `.npy`, `.npz`, `file.npz:key`, `.csv` or `.csv.gz` path, relative to the spec file.
FilePath = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_check_file)]
#: An `.npz` archive holding every array, relative to the spec file.
NpzPath = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_check_npz)]


def table_format(text: str) -> tuple[str, bool] | None:
    """(format, gzip-compressed) of a table file's name: 'a/train.csv.gz' -> ('csv', True); None for any other name."""
    lower = text.lower()
    compressed = lower.endswith(".gz")
    stem = lower[:-3] if compressed else lower
    for suffix, fmt in TABLE_FORMATS.items():
        if stem.endswith(suffix) and (not compressed or fmt in COMPRESSED_TABLE_FORMATS):
            return fmt, compressed
    return None


def _table_suffixes() -> str:
    plain = ", ".join(TABLE_FORMATS)
    return f"{plain} (.csv, .tsv and .jsonl also as .gz)"


def _check_table(text: str) -> str:
    if table_format(text) is None:
        raise ValueError(f"'{text}' is not a table file: expected a name ending in {_table_suffixes()}")
    return text


#: A table file (`.csv`, `.tsv` with a header row; `.jsonl`; `.parquet`; `.arrow`), relative to the spec file.
TablePath = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_check_table)]
#: A table column's name, as its header writes it (any text: `hours-per-week`).
ColumnName = Annotated[str, Field(min_length=1, max_length=1024)]
#: `data.columns`: an input or output name -> its column, or a list of columns stacked as one feature vector.
DataColumns = dict[Identifier, ColumnName | Annotated[list[ColumnName], Field(min_length=1)]]


def _array_files_tag(value: Any) -> str | None:
    return "FilePath" if isinstance(value, str) else "FileMap" if isinstance(value, dict) else None


#: One file (a single input or output) or a mapping of names to files.
ArrayFiles = Annotated[
    Annotated[FilePath, Tag("FilePath")] | Annotated[dict[Identifier, FilePath], Field(min_length=1), Tag("FileMap")],
    Discriminator(
        _array_files_tag,
        custom_error_type="invalid_array_files",
        custom_error_message="expected a file path or a mapping of names to file paths",
    ),
]


# ----- the registry --------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceKind:
    """One form of a data source.

    Args:
        tag: its tag in the union (pydantic puts it in error locations; it is not a YAML key).
        schema: its pydantic model, or an annotated type for a form that is not a mapping.
        form: how it is written, for the message listing every form ("{dataset: digits}").
        reader: "module:function" that reads it: function(reader: modelspec.data.loading.Reader, source).
        written_as: the YAML value it is written as (dict or str).
        key: a mapping holding this key is this form (tried in registration order); None: the
            mapping form taken when no registered key is present (one only).
    """

    tag: str
    schema: Any
    form: str
    reader: str
    written_as: type = dict
    key: str | None = None


#: The forms of a data source by tag, in registration order (the union's order).
SOURCES: dict[str, SourceKind] = {}

_Schema = TypeVar("_Schema")


def data_source(tag: str | None = None, *, form: str, reader: str, written_as: type = dict, key: str | None = None) -> Callable[[_Schema], _Schema]:
    """Register a source form: `@data_source(form=..., reader=..., key=...)` on its model (the tag is
    the class name), or `data_source("Tag", ..., written_as=str)(AnnotatedType)` for one that is not a mapping."""

    def register(schema: _Schema) -> _Schema:
        name = tag or schema.__name__  # type: ignore[attr-defined]
        if name in SOURCES:
            raise ValueError(f"data source {name!r} is already registered")
        SOURCES[name] = SourceKind(name, schema, form, reader, written_as, key)
        return schema

    return register


def kind_of(source: Any) -> SourceKind | None:
    """The registered form of a validated source (a config instance, or a string), None for anything else."""
    for kind in SOURCES.values():
        if type(source) is kind.schema or (not isinstance(kind.schema, type) and isinstance(source, kind.written_as)):
            return kind
    return None


def _source_tag(value: Any) -> str | None:
    """The union's discriminator: the tag of the form `value` is written as (a YAML value or a config instance)."""
    if isinstance(value, StrictModel):
        kind = kind_of(value)
        return kind.tag if kind is not None else type(value).__name__
    kinds = [kind for kind in SOURCES.values() if isinstance(value, kind.written_as)]
    keyed = [kind for kind in kinds if kind.key is not None and isinstance(value, dict) and kind.key in value]
    chosen = keyed or [kind for kind in kinds if kind.key is None]
    return chosen[0].tag if chosen else None


def _forms() -> str:
    forms = [kind.form for kind in SOURCES.values()]
    return ", ".join(forms[:-1]) + " or " + forms[-1] if len(forms) > 1 else "".join(forms)


def source_union() -> Any:
    """The type of `data.train`, `data.validation` and `data.test`, built from the registry: a union
    tagged by `_source_tag`, whose errors are located under a tag (DataPath, FilesSource, ...) that is not a YAML key."""
    members = tuple(Annotated[kind.schema, Tag(kind.tag)] for kind in SOURCES.values())
    return Annotated[
        Union[members],  # noqa: UP007 (a union built at run time)
        Discriminator(_source_tag, custom_error_type="invalid_data_source", custom_error_message=f"expected {_forms()}"),
    ]


# ----- the forms -----------------------------------------------------------------------------
data_source("DataPath", form="an .npz path", reader="modelspec.data.sources.archive:read", written_as=str)(NpzPath)


@data_source(form="{x: ..., y: ...}", reader="modelspec.data.sources.named_files:read")
class FilesSource(StrictModel):
    """Arrays read from files: `{x: {name: path, ...}, y: {name: path, ...}}`, or `{x: path, y: path}`."""

    x: ArrayFiles = Field(description="The model's inputs: a file (one input) or a mapping of input names to files.")
    y: ArrayFiles | None = Field(None, description="The targets: a file (one output) or a mapping of output names to files. Not needed to predict.")


@data_source(form="{dataset: digits}", reader="modelspec.data.sources.dataset:read", key="dataset")
class DatasetSource(StrictModel):
    """A dataset that ships with modelspec: `{dataset: digits}`."""

    dataset: Literal["digits"] = Field(description="UCI hand-written digits: 1,797 images of 8x8 pixels in [0, 1], 10 classes.")
    split: Literal["train", "test", "all"] | None = Field(
        None, description="Rows to use: train = first 80%, test = last 20%. Default: train under data.train, test elsewhere."
    )


@data_source(form="{table: FILE.csv}", reader="modelspec.data.sources.table:read", key="table")
class TableSource(StrictModel):
    """Columns of a table file, by input and output name (`data.columns` maps names to columns):
    `{table: income/train.csv}`; .csv and .tsv have a header row, extra columns are ignored."""

    table: TablePath = Field(description="A .csv or .tsv with a header row, .jsonl, .parquet or .arrow/.feather file; "
                                         ".csv, .tsv and .jsonl may be .gz. Relative to the spec.")
    #: data.columns, given by the data section (`bind_columns`) or by whoever makes the source (predict --data).
    _columns: dict[str, list[str]] = PrivateAttr(default_factory=dict)

    def columns_of(self, name: str) -> list[str]:
        """The columns an input or output reads: data.columns' entry, else the column of the same name."""
        return self._columns.get(name, [name])

    @property
    def mapped(self) -> set[str]:
        """The input and output names data.columns maps to columns (the others read the column of their name)."""
        return set(self._columns)

    def with_columns(self, columns: DataColumns | None) -> TableSource:
        """This source reading `columns` (data.columns: a name -> a column or a list of columns)."""
        self._columns = {name: [given] if isinstance(given, str) else list(given) for name, given in (columns or {}).items()}
        return self


class SyntheticOptions(StrictModel):
    samples: PositiveInt = Field(128, description="Number of samples.")
    seed: NonNegativeInt = Field(0, description="Random seed (mixed with the split and array name).")


@data_source(form="{synthetic: {samples: N}}", reader="modelspec.data.sources.synthetic:read", key="synthetic")
class SyntheticSource(StrictModel):
    """Random arrays shaped like the model's inputs and outputs: `{synthetic: {samples: 256, seed: 0}}`."""

    synthetic: SyntheticOptions = Field(description="Floats in [0, 1), integers below each input's bound, labels valid for the loss.")


def file_source(path: str, columns: DataColumns | None = None) -> Any:
    """The source a command's `--data FILE` names: a `{table: FILE}` reading data.columns for a table file,
    the path itself for an `.npz` archive, None for any other name."""
    if table_format(path) is not None:
        return TableSource.model_validate({"table": path}).with_columns(columns)
    return path if path.lower().endswith(".npz") else None


def file_source_forms() -> str:
    """The names `--data` takes, for its error message."""
    return f"an .npz of arrays named after the model's inputs (and outputs), or a table: {_table_suffixes()}"


def bind_columns(columns: DataColumns | None, *sources: Any) -> None:
    """Give data.columns to every `{table: ...}` source among `sources` (the data section's splits)."""
    for source in sources:
        if isinstance(source, TableSource):
            source.with_columns(columns)


def column_problems(columns: DataColumns, inputs: dict[str, tuple], outputs: dict[str, tuple]) -> list[tuple[str, tuple]]:
    """(message, path under data.columns) for each entry naming no input or output of the model, or listing a
    number of columns that cannot make its shape (a list is stacked as one row of that input's values)."""
    from modelspec.errors import did_you_mean, format_choices  # the error path only

    names = {**inputs, **outputs}
    found = []
    for name, given in columns.items():
        if name not in names:
            message = f"data.columns: '{name}' is not an input or output of the model (it has {format_choices(names)}){did_you_mean(name, names)}"
            found.append((message, (name,)))
            continue
        dims = tuple(names[name][1:]) if names[name] is not None else (None,)  # None: a layer that failed
        listed = [given] if isinstance(given, str) else given
        values = math.prod(dims) if all(isinstance(d, int) for d in dims) else None
        class_ids = name in outputs and len(listed) == 1  # one column of class ids for a one-hot output
        if values is not None and len(listed) != values and not class_ids:
            role = "input" if name in inputs else "output"
            message = (f"data.columns: {role} '{name}' has shape {(None, *dims)}, {values} value(s) a row, but {len(listed)} "
                       f"column(s) are listed: list {values} columns, stacked in order as its feature vector")
            found.append((message, (name,)))
    return found


#: The type of `data.train`, `data.validation` and `data.test` (the registered forms).
DataSource = source_union()
