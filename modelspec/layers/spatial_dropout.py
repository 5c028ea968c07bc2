"""SpatialDropout1D/2D/3D: dropout of whole channels (feature maps), channels_last.

    - {type: SpatialDropout1D, rate: 0.2}        # (batch, steps, channels)
    - {type: SpatialDropout2D, rate: 0.2}        # (batch, height, width, channels)
    - {type: SpatialDropout3D, rate: 0.2}        # (batch, depth, height, width, channels)

One Bernoulli draw per sample and channel, shared over the spatial axes; kept maps are scaled by
1 / (1 - rate). The identity at inference.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from modelspec.config import Probability
from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_noise import RandomLayer, RandomSeed


class SpatialDropout(RandomLayer):
    """Base of the three: `spatial` axes between the batch and the channels. Not registered."""

    rate: Probability = Field(description="Fraction of the channels to drop, in [0, 1).")
    seed: RandomSeed = None

    spatial: ClassVar[int] = 1
    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.expect_rank(input_shape, self.spatial + 2)
        return input_shape

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.dropout:NoiseShapeDropout", self.rate, (None, *([1] * self.spatial), None))


@register
class SpatialDropout1D(SpatialDropout):
    """(batch, steps, channels): drops whole channels for all steps."""

    type: Literal["SpatialDropout1D"]

    spatial = 1


@register
class SpatialDropout2D(SpatialDropout):
    """(batch, height, width, channels): drops whole feature maps."""

    type: Literal["SpatialDropout2D"]
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, height, width, channels).")

    spatial = 2


@register
class SpatialDropout3D(SpatialDropout):
    """(batch, depth, height, width, channels): drops whole feature volumes."""

    type: Literal["SpatialDropout3D"]
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, depth, height, width, channels).")

    spatial = 3
