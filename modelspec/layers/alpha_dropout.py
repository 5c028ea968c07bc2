"""AlphaDropout: dropout for self-normalizing (SELU) networks, keeping the inputs' mean and variance.

    - {type: AlphaDropout, rate: 0.1}
    - {type: AlphaDropout, rate: 0.1, noise_shape: [null, 1, 64]}    # one mask per sample for all steps

Training: dropped entries are set to SELU's negative saturation -alpha * scale, then an affine map
a * x + b restores a unit-normal input's mean and variance (Keras's formula). The identity at inference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import Dimension, NonNegativeInt, Probability
from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, Shape, format_shape, register


@register
class AlphaDropout(LayerConfig):
    """The shape is unchanged."""

    type: Literal["AlphaDropout"]
    rate: Probability = Field(description="Fraction of the inputs to drop, in [0, 1).")
    noise_shape: list[Dimension] | None = Field(
        None, description="Shape of the binary mask, batch first, broadcast over the input; null takes the input's size."
    )
    seed: NonNegativeInt | None = Field(
        None, description="Accepted for Keras compatibility; masks come from torch's global generator (seeded by training)."
    )

    family = "regularization"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.noise_shape is not None:
            noise = tuple(self.noise_shape)
            fits = len(noise) == len(input_shape) and all(
                n is None or n == 1 or d is None or n == d for n, d in zip(noise, input_shape)
            )
            if not fits:
                raise ShapeError(
                    f"AlphaDropout noise_shape {format_shape(noise)} does not fit the input shape {format_shape(input_shape)}: "
                    "expected the same rank, with each size 1, null or equal to the input's"
                )
        return input_shape

    def build(self, input_shapes: list[Shape]):
        from modelspec.nn.noise import KerasAlphaDropout

        return KerasAlphaDropout(self.rate, None if self.noise_shape is None else tuple(self.noise_shape))
