"""GaussianDropout: multiply by 1-centred Gaussian noise of variance rate / (1 - rate) while training.

    - {type: GaussianDropout, rate: 0.2}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import Probability
from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_noise import RandomLayer, RandomSeed


@register
class GaussianDropout(RandomLayer):
    """Training: x * N(1, rate / (1 - rate)); inference: x. The shape is unchanged."""

    type: Literal["GaussianDropout"]
    rate: Probability = Field(description="Drop probability as with Dropout, in [0, 1): the noise's stddev is sqrt(rate / (1 - rate)).")
    seed: RandomSeed = None

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.noise:KerasGaussianDropout", self.rate)
