"""LSTM as a torch module: Keras's equations and single bias, PyTorch's fused kernel when possible.

Keras's cell, with z = x_t @ kernel.T + h @ recurrent_kernel.T + bias split into (i, f, c, o):
    i, f, o = recurrent_activation(z_i, z_f, z_o);  c = f * c + i * activation(z_c);  h = o * activation(c)
With tanh and sigmoid this is exactly torch's LSTM (gate order i, f, g, o), so `torch.lstm` runs it with
a zero second bias; any other pair of activations runs the step loop (modelspec.nn.recurrent).
"""

from __future__ import annotations

import torch

from modelspec.activations import ActivationName
from modelspec.nn.activations import get_activation
from modelspec.nn.init import initialize
from modelspec.nn.recurrent import KerasRecurrent, States, single_layer_hx


class KerasLSTM(KerasRecurrent):
    """Keras's LSTM layer (see KerasRecurrent for the arguments, shapes, masks and states).

    Extra args: recurrent_activation, unit_forget_bias.
    Weights: kernel (4*units, in_features), recurrent_kernel (4*units, units), bias (4*units,); gates i, f, c, o.
    States: (h, c).
    """

    gates = 4
    state_count = 2

    def __init__(
        self,
        in_features: int,
        units: int,
        *,
        recurrent_activation: ActivationName = "sigmoid",
        unit_forget_bias: bool = True,
        **options,
    ):
        super().__init__(in_features, units, **options)
        self.recurrent_activation = recurrent_activation
        self.unit_forget_bias = unit_forget_bias
        # torch.lstm takes two biases; Keras has one. The second stays zero and is not saved.
        self.register_buffer("zero_bias", torch.zeros(4 * units), persistent=False)
        self.fused = self.allow_fused and self.activation == "tanh" and recurrent_activation == "sigmoid"
        self._activation, self._recurrent = get_activation(self.activation), get_activation(recurrent_activation)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize(self.kernel, self.kernel_initializer)
        initialize(self.recurrent_kernel, self.recurrent_initializer)
        if self.bias is not None:
            initialize(self.bias, self.bias_initializer)
            if self.unit_forget_bias:
                with torch.no_grad():
                    self.bias[self.units : 2 * self.units] = 1.0  # Keras: [init(u), ones(u), init(2u)]

    def step(self, projected: torch.Tensor, states: States, recurrent_masks: list[torch.Tensor] | None) -> tuple[torch.Tensor, States]:
        h, c = states
        i, f, g, o = (projected + self.recurrent_projection(h, recurrent_masks)).chunk(4, dim=-1)
        c = self._recurrent(f) * c + self._recurrent(i) * self._activation(g)
        h = self._recurrent(o) * self._activation(c)
        return h, (h, c)

    def fused_call(self, data: torch.Tensor, batch_sizes: torch.Tensor | None, states: States) -> tuple[torch.Tensor, States]:
        has_bias = self.bias is not None
        params = [self.kernel, self.recurrent_kernel, *([self.bias, self.zero_bias] if has_bias else [])]
        hx = single_layer_hx(states)
        if batch_sizes is None:
            output, h, c = torch.lstm(data, hx, params, has_bias, 1, 0.0, self.training, False, True)
        else:
            output, h, c = torch.lstm(data, batch_sizes, hx, params, has_bias, 1, 0.0, self.training, False)
        return output, (h[0], c[0])

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, recurrent_activation={self.recurrent_activation}"

