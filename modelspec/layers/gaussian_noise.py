"""GaussianNoise: add zero-centred Gaussian noise while training (a regularizer; the identity at inference).

    - {type: GaussianNoise, stddev: 0.1}
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_noise import RandomLayer, RandomSeed


@register
class GaussianNoise(RandomLayer):
    """Training: x + N(0, stddev^2); inference: x. The shape is unchanged."""

    type: Literal["GaussianNoise"]
    stddev: Annotated[float, Field(ge=0.0, le=1.0)] = Field(description="Standard deviation of the noise, in [0, 1] (as Keras 3 checks).")
    seed: RandomSeed = None

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.noise:KerasGaussianNoise", self.stddev)
