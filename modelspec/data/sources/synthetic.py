"""`{synthetic: {samples: 256, seed: 0}}`: random arrays shaped like the model's inputs and targets.

Floats in [0, 1), integers below each input's bound (an Embedding's input_dim, else
SYNTHETIC_INT_HIGH), labels valid for the loss (one-hot rows, class ids, 0/1). A dimension the model
leaves unknown (a sequence length) is SYNTHETIC_UNKNOWN_DIM. Each array is seeded by the seed, the
split and its name, and sized before it is drawn (ResourceError past the memory available).
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from modelspec.data.arrays import ArraySpec, shape_text
from modelspec.data.config import SyntheticSource
from modelspec.data.reader import Reader

#: Size given by `{synthetic: ...}` to a non-batch dimension the model leaves unknown (a sequence length).
SYNTHETIC_UNKNOWN_DIM = 8
#: Values of a synthetic integer input without a `high` bound lie in [0, SYNTHETIC_INT_HIGH).
SYNTHETIC_INT_HIGH = 10


def read(reader: Reader, source: SyntheticSource) -> None:
    """Add one random array per input and target."""
    options = source.synthetic
    for spec in reader.inputs + reader.targets:
        seed = [options.seed, zlib.crc32(reader.split.encode()), zlib.crc32(spec.name.encode())]
        shape = _synthetic_shape(spec, options.samples)
        reader.allocate(_synthetic_bytes(spec, shape), f"synthetic array '{spec.name}' of shape {shape_text(shape)} ({spec.dtype})")
        reader.add(spec.name, _synthesize(spec, options.samples, np.random.default_rng(seed)), "synthetic data")


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
