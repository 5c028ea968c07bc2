"""LSTM: long short-term memory recurrent layer (Hochreiter & Schmidhuber, 1997), Keras's equations.

    - {type: LSTM, units: 64}                                     # (None, 20, 16) -> (None, 64)
    - {type: LSTM, units: 64, return_sequences: true}             # (None, 20, 16) -> (None, 20, 64)
    - {type: LSTM, units: 32, input_length: 20, input_dim: 16}    # Keras 2 first-layer style
    - {type: LSTM, units: 32, stateful: true, batch_input_shape: [8, 20, 16]}
    - {type: LSTM, units: 32, inputs: [x, h0, c0]}                # Keras's initial_state=[h0, c0]

Weights in PyTorch's layout with gates ordered i, f, c (torch's g), o: kernel (4*units, features),
recurrent_kernel (4*units, units) and ONE bias (4*units) as in Keras, so that parameters
number 4 * (units * (features + units) + units). Shared RNN behaviour: modelspec.layers.base_recurrent.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from modelspec.activations import ActivationName
from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_recurrent import RecurrentLayer, UseCudnn


@register
class LSTM(RecurrentLayer):
    """(batch, time, features) -> (batch, units), or (batch, time, units) with return_sequences; states h and c."""

    type: Literal["LSTM"]
    recurrent_activation: ActivationName = Field("sigmoid", description="Activation of the input, forget and output gates.")
    unit_forget_bias: bool = Field(True, description="Add 1 to the forget gate's bias at initialization (bias_initializer becomes zeros there).")
    use_cudnn: UseCudnn = Field("auto", description="Use torch's fused kernel when the configuration allows it; false always runs the step loop.")

    arity = (1, 3)
    gates = 4
    state_names = ("h", "c")

    @model_validator(mode="after")
    def _check_fused(self) -> LSTM:
        if self.use_cudnn is True and (self.activation, self.recurrent_activation) != ("tanh", "sigmoid"):
            raise ValueError(
                "use_cudnn=true needs activation=tanh and recurrent_activation=sigmoid, received "
                f"activation={self.activation} and recurrent_activation={self.recurrent_activation}: use 'auto'"
            )
        return self

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.lstm:KerasLSTM",
            self.features(input_shapes),
            self.units,
            recurrent_activation=self.recurrent_activation,
            unit_forget_bias=self.unit_forget_bias,
            allow_fused=self.use_cudnn is not False,
            **self.module_options(),
        )
