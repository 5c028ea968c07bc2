"""Dropout: randomly zero a fraction `rate` of the inputs while training (scaled by 1/(1-rate)).

    - {type: Dropout, rate: 0.5}
    - {type: Dropout, rate: 0.2, noise_shape: [null, 1, 64]}   # one mask per sample for all time steps
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import Dimension, NonNegativeInt, Probability
from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, Shape, format_shape, register


@register
class Dropout(LayerConfig):
    """Inverted dropout; the identity at inference."""

    type: Literal["Dropout"]
    rate: Probability = Field(description="Fraction of the input units to drop, in [0, 1).")
    noise_shape: list[Dimension] | None = Field(
        None,
        description="Shape of the binary mask, batch first, broadcast over the input; null takes the input's size "
        "(e.g. [null, 1, 64] drops the same features at every time step).",
    )
    seed: NonNegativeInt | None = Field(
        None, description="Accepted for Keras compatibility; masks come from torch's global generator (seeded by training)."
    )

    family = "regularization"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.noise_shape is not None:
            self._check_noise_shape(input_shape)
        return input_shape

    def _check_noise_shape(self, input_shape: Shape) -> None:
        noise = tuple(self.noise_shape or ())
        fits = len(noise) == len(input_shape) and all(
            n is None or n == 1 or d is None or n == d for n, d in zip(noise, input_shape)
        )
        if not fits:
            raise ShapeError(
                f"Dropout noise_shape {format_shape(noise)} does not fit the input shape {format_shape(input_shape)}: "
                "expected the same rank, with each size 1, null or equal to the input's"
            )

    def build(self, input_shapes: list[Shape]):
        if self.noise_shape is None:
            from torch import nn

            return nn.Dropout(self.rate)
        from modelspec.nn.dropout import NoiseShapeDropout

        return NoiseShapeDropout(self.rate, tuple(self.noise_shape))
