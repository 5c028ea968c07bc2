"""The `data:` section's source forms (pydantic, no numpy: validating a spec stays light).

    train: data/train.npz
    train: {x: {image: x.npy, meta: m.csv}, y: {label: y.npz:label}}
    train: {dataset: digits}
    train: {synthetic: {samples: 256, seed: 0}}

Loading and checking the arrays is modelspec.data's job.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag

from modelspec.config import Identifier, NonNegativeInt, PositiveInt, StrictModel

FILE_SUFFIXES = (".npy", ".npz", ".csv", ".csv.gz")


def _split_key(text: str) -> tuple[str, str | None]:
    """'a.npz:key' -> ('a.npz', 'key'); anything else -> (text, None)."""
    path, sep, key = text.rpartition(":")
    if sep and path.lower().endswith(".npz") and key and not re.search(r"[/\\]", key):
        return path, key
    return text, None


def _check_file(text: str) -> str:
    path, _ = _split_key(text)
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


class FilesSource(StrictModel):
    """Arrays read from files: `{x: {name: path, ...}, y: {name: path, ...}}`, or `{x: path, y: path}`."""

    x: ArrayFiles = Field(description="The model's inputs: a file (one input) or a mapping of input names to files.")
    y: ArrayFiles | None = Field(None, description="The targets: a file (one output) or a mapping of output names to files. Not needed to predict.")


class DatasetSource(StrictModel):
    """A dataset that ships with modelspec: `{dataset: digits}`."""

    dataset: Literal["digits"] = Field(description="UCI hand-written digits: 1,797 images of 8x8 pixels in [0, 1], 10 classes.")
    split: Literal["train", "test", "all"] | None = Field(
        None, description="Rows to use: train = first 80%, test = last 20%. Default: train under data.train, test elsewhere."
    )


class SyntheticOptions(StrictModel):
    samples: PositiveInt = Field(128, description="Number of samples.")
    seed: NonNegativeInt = Field(0, description="Random seed (mixed with the split and array name).")


class SyntheticSource(StrictModel):
    """Random arrays shaped like the model's inputs and outputs: `{synthetic: {samples: 256, seed: 0}}`."""

    synthetic: SyntheticOptions = Field(description="Floats in [0, 1), integers below each input's bound, labels valid for the loss.")


def _source_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "DataPath"
    if isinstance(value, dict):
        return "DatasetSource" if "dataset" in value else "SyntheticSource" if "synthetic" in value else "FilesSource"
    if isinstance(value, StrictModel):
        return type(value).__name__
    return None


#: The type of `data.train`, `data.validation` and `data.test`. Errors are located under a tag
#: (DataPath, FilesSource, DatasetSource, SyntheticSource) that is not a YAML key.
DataSource = Annotated[
    Annotated[NpzPath, Tag("DataPath")]
    | Annotated[FilesSource, Tag("FilesSource")]
    | Annotated[DatasetSource, Tag("DatasetSource")]
    | Annotated[SyntheticSource, Tag("SyntheticSource")],
    Discriminator(
        _source_tag,
        custom_error_type="invalid_data_source",
        custom_error_message="expected an .npz path, {x: ..., y: ...}, {dataset: digits} or {synthetic: {samples: N}}",
    ),
]


