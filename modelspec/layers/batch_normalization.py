"""BatchNormalization: normalize each channel with the batch's statistics in training, moving averages at inference.

    - {type: BatchNormalization}                           # after Dense or a channels_last Conv2D
    - {type: BatchNormalization, momentum: 0.9, epsilon: 1.0e-5, center: false}

Weights: gamma and beta (trainable, when scale/center) and moving_mean, moving_variance
(non-trainable, stored as persistent buffers), each of the size of `axis`: Keras counts
2 * channels trainable and 2 * channels non-trainable parameters. Keras's update rule:
moving = moving * momentum + batch * (1 - momentum), with the biased batch variance. A layer with
`trainable: false` always normalizes with the moving statistics, as in Keras.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from modelspec.initializers import InitializerName
from modelspec.layers.base import ModuleRecord, Shape, Weight, module_record, register
from modelspec.layers.base_normalization import GammaBetaLayer


@register
class BatchNormalization(GammaBetaLayer):
    """gamma * (x - mean) / sqrt(variance + epsilon) + beta, per entry of `axis`."""

    type: Literal["BatchNormalization"]
    axis: int = Field(-1, description="The axis of the features to normalize (-1: channels_last); every other axis is reduced.")
    momentum: Annotated[float, Field(ge=0.0, le=1.0)] = Field(0.99, description="Momentum of the moving averages, in [0, 1].")
    moving_mean_initializer: InitializerName = Field("zeros", description="Initializer of the moving mean.")
    moving_variance_initializer: InitializerName = Field("ones", description="Initializer of the moving variance.")
    synchronized: Literal[False] = Field(False, description="Keras: TensorFlow backend only; not supported here.")

    consumes_mask = True  # masked steps are left out of the batch statistics

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        (features,) = self.known_sizes(self.single(input_shapes))
        found = {}
        if self.scale:
            found["gamma"] = Weight((features,))
        if self.center:
            found["beta"] = Weight((features,))
        found["moving_mean"] = Weight((features,), trainable=False)
        found["moving_variance"] = Weight((features,), trainable=False)
        return found

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        shape = self.single(input_shapes)
        (features,) = self.known_sizes(shape)
        (axis,) = self.positive_axes(shape)
        return module_record(
            "modelspec.nn.normalization:KerasBatchNormalization",
            features,
            axis=axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=self.beta_initializer,
            gamma_initializer=self.gamma_initializer,
            moving_mean_initializer=self.moving_mean_initializer,
            moving_variance_initializer=self.moving_variance_initializer,
            frozen=not self.trainable,
        )
