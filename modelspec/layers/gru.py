"""GRU: gated recurrent unit (Cho et al., 2014), Keras's equations, gate order and bias.

    - {type: GRU, units: 32}                                  # (None, 20, 16) -> (None, 32)
    - {type: GRU, units: 32, return_sequences: true, dropout: 0.2, recurrent_dropout: 0.2}
    - {type: GRU, units: 32, reset_after: false}              # the original formulation (step loop)
    - {type: GRU, units: 32, inputs: [x, h0]}                 # Keras's initial_state=[h0]

Weights in PyTorch's layout with Keras's gate order z, r, h: kernel (3*units, features),
recurrent_kernel (3*units, units); bias (2, 3*units) as in Keras when reset_after (rows: input bias,
recurrent bias), else (3*units,). Parameters: 3 * (units * (features + units) + 2 * units) with
reset_after, 3 * (units * (features + units) + units) without.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from modelspec.activations import ActivationName
from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_recurrent import RecurrentLayer, UseCudnn


@register
class GRU(RecurrentLayer):
    """(batch, time, features) -> (batch, units), or (batch, time, units) with return_sequences; state h."""

    type: Literal["GRU"]
    recurrent_activation: ActivationName = Field("sigmoid", description="Activation of the update and reset gates.")
    reset_after: bool = Field(True, description="Apply the reset gate after the recurrent matrix product (Keras's default, torch's and cuDNN's GRU).")
    use_cudnn: UseCudnn = Field("auto", description="Use torch's fused kernel when the configuration allows it; false always runs the step loop.")

    gates = 3

    @model_validator(mode="after")
    def _check_fused(self) -> GRU:
        if self.use_cudnn is True and not (self.reset_after and (self.activation, self.recurrent_activation) == ("tanh", "sigmoid")):
            raise ValueError(
                "use_cudnn=true needs reset_after=true, activation=tanh and recurrent_activation=sigmoid, received "
                f"reset_after={self.reset_after}, activation={self.activation} and recurrent_activation={self.recurrent_activation}: use 'auto'"
            )
        return self

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.gru:KerasGRU",
            self.features(input_shapes),
            self.units,
            recurrent_activation=self.recurrent_activation,
            reset_after=self.reset_after,
            allow_fused=self.use_cudnn is not False,
            **self.module_options(),
        )
