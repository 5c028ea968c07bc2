"""`{dataset: digits}`: a dataset shipped with modelspec (modelspec.data.datasets), for a model with one input and one target.

The split is train (the first 80%) under `data.train`, test (the last 20%) elsewhere, unless
`split:` says; images are reshaped to an input of 64 values in more than one dimension ((8, 8, 1)).
"""

from __future__ import annotations

import math

from modelspec.data.config import DatasetSource
from modelspec.data.datasets import digits
from modelspec.data.reader import Reader


def read(reader: Reader, source: DatasetSource) -> None:
    """Add the images under the model's input name and the labels under its target's."""
    part = source.split or ("train" if reader.split == "train" else "test")
    images, labels = digits.load_digits(part)
    origin = f"the digits dataset ({part} split)"
    if len(reader.inputs) != 1 or len(reader.targets) > 1:
        names = ", ".join(f"'{s.name}'" for s in reader.inputs + reader.targets)
        reader.fail(f"the digits dataset has one input (64 pixels) and one target (the digit); the model has {names}")
        return
    spec = reader.inputs[0]
    dims = spec.shape[1:]
    if all(isinstance(d, int) for d in dims) and math.prod(dims) == digits.NUM_FEATURES and len(dims) > 1:
        images = images.reshape((len(images), *dims))  # (8, 8) or (8, 8, 1) images for a convolutional model
    reader.add(spec.name, images, origin)
    if reader.targets:
        reader.add(reader.targets[0].name, labels, origin)
