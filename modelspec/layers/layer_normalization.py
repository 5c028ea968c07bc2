"""LayerNormalization: normalize each sample over `axis` (Ba et al., 2016).

    - {type: LayerNormalization}                        # over the features, (None, 10, 64): 64 + 64 params
    - {type: LayerNormalization, axis: [1, 2, 3]}       # (None, 20, 30, 40): gamma and beta (20, 30, 40)

gamma and beta span the axes of `axis` (shaped in that order), which must have known sizes.
Keras's `rms_scaling` is not supported.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import ModuleRecord, Shape, Weight, module_record, register
from modelspec.layers.base_normalization import Axes, GammaBetaLayer


@register
class LayerNormalization(GammaBetaLayer):
    """(x - mean) / sqrt(variance + epsilon) * gamma + beta, with each sample's mean and biased variance over `axis`."""

    type: Literal["LayerNormalization"]
    axis: Axes = Field(-1, description="The axis or axes to normalize across (-1: the last); gamma and beta span them.")

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        sizes = self.known_sizes(self.single(input_shapes))
        return {name: Weight(sizes) for name in self.penalized_weights()}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        shape = self.single(input_shapes)
        return module_record(
            "modelspec.nn.normalization:KerasLayerNormalization",
            self.positive_axes(shape),
            self.known_sizes(shape),
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=self.beta_initializer,
            gamma_initializer=self.gamma_initializer,
        )
