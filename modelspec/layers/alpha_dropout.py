"""AlphaDropout: dropout for self-normalizing (SELU) networks, keeping the inputs' mean and variance.

    - {type: AlphaDropout, rate: 0.1}
    - {type: AlphaDropout, rate: 0.1, noise_shape: [null, 1, 64]}    # one mask per sample for all steps

Training: dropped entries are set to SELU's negative saturation -alpha * scale, then an affine map
a * x + b restores a unit-normal input's mean and variance (Keras's formula). The identity at inference.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import Dimension, Probability
from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_noise import RandomLayer, RandomSeed


@register
class AlphaDropout(RandomLayer):
    """The shape is unchanged."""

    type: Literal["AlphaDropout"]
    rate: Probability = Field(description="Fraction of the inputs to drop, in [0, 1).")
    noise_shape: list[Dimension] | None = Field(
        None, description="Shape of the binary mask, batch first, broadcast over the input; null takes the input's size."
    )
    seed: RandomSeed = None

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.noise:KerasAlphaDropout", self.rate, None if self.noise_shape is None else tuple(self.noise_shape))
