"""Reading one `data.<split>` source into named arrays: `load_source` calls the reader its form registered.

The forms (modelspec.data.config; one reader each in modelspec.data.sources):

    train: data/train.npz                          # arrays keyed by input and output names
    train: {x: {image: x.npy, meta: m.csv}, y: {label: y.npz:label}}
    train: {x: images.npy, y: labels.csv}          # one input, one output
    train: {dataset: digits}                       # shipped: train = first 80%, else the last 20%
    train: {synthetic: {samples: 256, seed: 0}}    # random arrays shaped like the model's inputs

Names: arrays are looked up by the model's input and output names. A model with one input
(and one output), which includes every sequential model, may use `x` (and `y`) instead. How files
are read, and sized before they are, is the Reader's (modelspec.data.reader); shapes and values
are `check_arrays`' (modelspec.data.checks).

Example:
    expected = [ArraySpec("features", (None, 64), "float32", "input"),
                ArraySpec("digit", (None, 10), "float32", "target", label_kind="categorical")]
    raw = load_source(source, expected, base_dir=spec_path.parent, split="train")
    arrays = check_arrays(raw, expected, where="data.train")
    train, val = split_validation(arrays, 0.2)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelspec.data.arrays import Arrays, ArraySpec
from modelspec.data.config import DataSource, kind_of
from modelspec.data.reader import Reader
from modelspec.errors import DataError


def source_reader(source: Any) -> Callable[[Reader, Any], None]:
    """The function registered to read `source` (a validated DataSource): TypeError for anything else."""
    kind = kind_of(source)
    if kind is None:
        raise TypeError(f"not a DataSource: {source!r}")
    module, _, name = kind.reader.partition(":")
    return getattr(importlib.import_module(module), name)


def load_source(source: DataSource, expected: list[ArraySpec], base_dir: Path, split: str, *, force: bool = False) -> Arrays:
    """Read the raw arrays of one `data.<split>` source, keyed by the model's input and output names.

    `split` ("train", "validation", "test") names the source in messages, picks the digits split
    (train under "train", test otherwise) and seeds synthetic data. File problems are collected
    and raised together as one DataError; shapes and values are checked by `check_arrays`. Sizes
    are checked before anything is read or generated (`.npz` members from their headers, CSV numbers
    counted on the text, synthetic arrays from their shapes): ResourceError when they would not fit
    in the memory available, unless `force`.
    """
    read = source_reader(source)
    reader = Reader(expected, base_dir, split, force=force)
    read(reader, source)
    if reader.problems:
        raise DataError("\n".join(reader.problems))
    return reader.arrays
