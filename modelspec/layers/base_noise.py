"""What the layers that are random in training and the identity at inference share.

Dropout, AlphaDropout, GaussianDropout, GaussianNoise and SpatialDropout1D/2D/3D: the shape is
unchanged, a mask passes through, `seed` is accepted as in Keras, and a `noise_shape` (where the
layer has one) must broadcast over the input.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from modelspec.config import NonNegativeInt
from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, Shape, format_shape

#: `seed:` of a random layer: accepted for Keras compatibility.
RandomSeed = Annotated[
    NonNegativeInt | None,
    Field(description="Accepted for Keras compatibility; the randomness comes from torch's global generator (seeded by training)."),
]


class RandomLayer(LayerConfig):
    """Base of the random layers: same shape out as in, mask passed on. Not registered."""

    family = "regularization"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        noise_shape = getattr(self, "noise_shape", None)
        if noise_shape is not None:
            noise = tuple(noise_shape)
            fits = len(noise) == len(input_shape) and all(n is None or n == 1 or d is None or n == d for n, d in zip(noise, input_shape))
            if not fits:
                raise ShapeError(
                    f"{self.type} noise_shape {format_shape(noise)} does not fit the input shape {format_shape(input_shape)}: "
                    "expected the same rank, with each size 1, null or equal to the input's"
                )
        return input_shape
