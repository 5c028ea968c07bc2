"""Keras's `validation_split`: the last fraction of the samples, as views (memory maps stay memory maps).

    train, val = split_validation(arrays, 0.2)
"""

from __future__ import annotations

import math

import numpy as np

from modelspec.data.arrays import Arrays
from modelspec.errors import DataError


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
    split_at = math.floor(n * (1.0 - fraction))
    if split_at == 0 or split_at == n:
        raise DataError(
            f"{n} samples are too few to split with validation_split={fraction}: "
            f"it leaves {split_at} for training and {n - split_at} for validation"
        )
    origins = getattr(arrays, "origins", {})
    train = Arrays({k: a[:split_at] for k, a in arrays.items()}, origins=origins)
    val = Arrays({k: a[split_at:] for k, a in arrays.items()}, origins=origins)
    return train, val
