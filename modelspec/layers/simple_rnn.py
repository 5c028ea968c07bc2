"""SimpleRNN: a fully-connected recurrent layer whose output is fed back, Keras's equations.

    - {type: SimpleRNN, units: 16}                              # (None, 20, 8) -> (None, 16)
    - {type: SimpleRNN, units: 16, activation: relu, return_sequences: true}
    - {type: SimpleRNN, units: 16, inputs: [x, h0]}             # Keras's initial_state=[h0]

h = activation(x_t @ kernel.T + bias + h @ recurrent_kernel.T). Weights in PyTorch's layout:
kernel (units, features), recurrent_kernel (units, units), bias (units,); parameters
units * (features + units) + units.
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import ModuleRecord, Shape, module_record, register
from modelspec.layers.base_recurrent import RecurrentLayer


@register
class SimpleRNN(RecurrentLayer):
    """(batch, time, features) -> (batch, units), or (batch, time, units) with return_sequences; state h."""

    type: Literal["SimpleRNN"]

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.simple_rnn:KerasSimpleRNN", self.features(input_shapes), self.units, **self.module_options())
