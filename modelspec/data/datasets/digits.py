"""The UCI ML hand-written digits, shipped with modelspec: 1,797 images of 8x8 pixels, 10 classes.

Source: the test set of "Optical Recognition of Handwritten Digits" (E. Alpaydin, C. Kaynak,
1998), UCI Machine Learning Repository, https://doi.org/10.24432/C50P49 (CC BY 4.0); the file
`digits.csv.gz` is the copy that scikit-learn ships (sklearn/datasets/data/digits.csv.gz):
one row per image, 64 pixel counts 0..16 then the class 0..9.

The split is fixed: `train` is the first 80% of the rows (1,437), `test` the last 20% (360),
`all` every row. Nothing here imports scikit-learn.

Example:
    images, labels = load_digits("train")   # (1437, 64) float32 in [0, 1], (1437,) int64
"""

from __future__ import annotations

import functools
import gzip
from importlib import resources

import numpy as np

from modelspec.errors import DataError

FILE_NAME = "digits.csv.gz"
NUM_SAMPLES = 1797
NUM_FEATURES = 64
NUM_CLASSES = 10
TRAIN_FRACTION = 0.8
SPLITS = ("train", "test", "all")


@functools.lru_cache(maxsize=1)
def _read_all() -> tuple[np.ndarray, np.ndarray]:
    try:
        with resources.as_file(resources.files(__package__) / FILE_NAME) as path, gzip.open(path, "rt") as text:
            table = np.loadtxt(text, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"the shipped digits dataset ({FILE_NAME}) cannot be read: {exc}") from None
    if table.shape != (NUM_SAMPLES, NUM_FEATURES + 1):
        raise DataError(f"the shipped digits dataset ({FILE_NAME}) has shape {table.shape}, expected {(NUM_SAMPLES, NUM_FEATURES + 1)}")
    images = (table[:, :NUM_FEATURES] / 16.0).astype(np.float32)
    labels = table[:, NUM_FEATURES].copy()
    for array in (images, labels):
        array.flags.writeable = False  # cached: callers get views, never a copy they could alter for others
    return images, labels


def split_size(split: str) -> tuple[int, int]:
    """The (start, stop) rows of a split."""
    if split not in SPLITS:
        raise ValueError(f"unknown digits split {split!r}, expected one of {SPLITS}")
    n_train = int(NUM_SAMPLES * TRAIN_FRACTION)
    return {"train": (0, n_train), "test": (n_train, NUM_SAMPLES), "all": (0, NUM_SAMPLES)}[split]


def load_digits(split: str = "all") -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 64) float32 scaled to [0, 1] (pixel count / 16) and labels (n,) int64 in 0..9.

    The arrays are read-only views of a cached copy; the result is the same on every call.
    """
    start, stop = split_size(split)
    images, labels = _read_all()
    return images[start:stop], labels[start:stop]
