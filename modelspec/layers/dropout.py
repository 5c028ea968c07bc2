"""Dropout: randomly zero a fraction `rate` of the inputs while training (scaled by 1/(1-rate)).

    - {type: Dropout, rate: 0.5}
    - {type: Dropout, rate: 0.2, noise_shape: [null, 1, 64]}   # one mask per sample for all time steps
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import Dimension, Probability
from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_noise import RandomLayer, RandomSeed


@register
class Dropout(RandomLayer):
    """Inverted dropout; the identity at inference."""

    type: Literal["Dropout"]
    rate: Probability = Field(description="Fraction of the input units to drop, in [0, 1).")
    noise_shape: list[Dimension] | None = Field(
        None,
        description="Shape of the binary mask, batch first, broadcast over the input; null takes the input's size "
        "(e.g. [null, 1, 64] drops the same features at every time step).",
    )
    seed: RandomSeed = None

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        if self.noise_shape is None:
            return module_record("torch.nn:Dropout", self.rate)
        return module_record("modelspec.nn.dropout:NoiseShapeDropout", self.rate, tuple(self.noise_shape))
