"""GroupNormalization: split the channels into groups and normalize each sample's group (Wu & He, 2018).

    - {type: GroupNormalization, groups: 8}               # (None, 32, 32, 64): 64 + 64 params
    - {type: GroupNormalization, groups: -1}              # one group per channel: instance normalization

The channels (the size of `axis`) must be known and divisible by `groups`; gamma and beta are per channel.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import PositiveInt
from modelspec.errors import ShapeError
from modelspec.layers.base import ModuleRecord, Shape, Weight, format_shape, module_record, register
from modelspec.layers.base_normalization import GammaBetaLayer


@register
class GroupNormalization(GammaBetaLayer):
    """Each group of channels normalized over its channels and every other non-batch axis, then * gamma + beta per channel."""

    type: Literal["GroupNormalization"]
    groups: PositiveInt | Literal[-1] = Field(32, description="Number of groups; must divide the channels. -1: one group per channel.")
    axis: int = Field(-1, description="The channel axis (-1: channels_last).")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if input_shape[self.positive_axes(input_shape)[0]] is not None:
            self.channel_groups(input_shape)
        return input_shape

    def channel_groups(self, input_shape: Shape) -> tuple[int, int]:
        """(channels, groups) once checked against each other."""
        (channels,) = self.known_sizes(input_shape)
        groups = channels if self.groups == -1 else self.groups
        if groups > channels or channels % groups:
            raise ShapeError(
                f"GroupNormalization groups={self.groups} does not fit {channels} channels (input shape "
                f"{format_shape(input_shape)}): expected a number of groups that divides the channels"
            )
        return channels, groups

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        channels, _ = self.channel_groups(self.single(input_shapes))
        return {name: Weight((channels,)) for name in self.penalized_weights()}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        shape = self.single(input_shapes)
        channels, groups = self.channel_groups(shape)
        return module_record(
            "modelspec.nn.normalization:KerasGroupNormalization",
            channels,
            groups,
            axis=self.positive_axes(shape)[0],
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=self.beta_initializer,
            gamma_initializer=self.gamma_initializer,
        )
