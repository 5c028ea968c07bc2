"""LSTM as a torch module: Keras's equations and single bias, PyTorch's fused kernel when possible.

Keras's cell, with z = x_t @ kernel.T + h @ recurrent_kernel.T + bias split into (i, f, c, o):
    i, f, o = recurrent_activation(z_i, z_f, z_o);  c = f * c + i * activation(z_c);  h = o * activation(c)
With tanh and sigmoid this is exactly torch's LSTM (gate order i, f, g, o), so `torch.lstm` runs it with
a zero second bias; any other pair of activations runs a Python loop over time steps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.activations import ActivationName
from modelspec.initializers import InitializerName
from modelspec.nn.activations import get_activation
from modelspec.nn.init import initialize

State = tuple[torch.Tensor, torch.Tensor]


class KerasLSTM(nn.Module):
    """Keras's LSTM layer.

    Args: in_features, units, activation, recurrent_activation, use_bias, kernel_initializer,
    recurrent_initializer, bias_initializer, unit_forget_bias, return_sequences, return_state,
    go_backwards, stateful.
    Shape: (batch, time, in_features) -> (batch, units), or (batch, time, units) with return_sequences;
    with return_state a tuple (output, h, c), states (batch, units).
    Weights: kernel (4*units, in_features), recurrent_kernel (4*units, units), bias (4*units,).

    A stateful module keeps its last (h, c), detached, as the next call's initial state; reset_states() clears it.
    """

    def __init__(
        self,
        in_features: int,
        units: int,
        *,
        activation: ActivationName = "tanh",
        recurrent_activation: ActivationName = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: InitializerName = "glorot_uniform",
        recurrent_initializer: InitializerName = "orthogonal",
        bias_initializer: InitializerName = "zeros",
        unit_forget_bias: bool = True,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
    ):
        super().__init__()
        self.units = units
        self.kernel = nn.Parameter(torch.empty(4 * units, in_features))
        self.recurrent_kernel = nn.Parameter(torch.empty(4 * units, units))
        self.bias = nn.Parameter(torch.empty(4 * units)) if use_bias else None
        # torch.lstm takes two biases; Keras has one. The second stays zero and is not saved.
        self.register_buffer("zero_bias", torch.zeros(4 * units), persistent=False)
        self.activation, self.recurrent_activation = activation, recurrent_activation
        self.kernel_initializer, self.recurrent_initializer = kernel_initializer, recurrent_initializer
        self.bias_initializer, self.unit_forget_bias = bias_initializer, unit_forget_bias
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful = go_backwards, stateful
        self.fused = activation == "tanh" and recurrent_activation == "sigmoid"
        self.states: State | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize(self.kernel, self.kernel_initializer)
        initialize(self.recurrent_kernel, self.recurrent_initializer)
        if self.bias is not None:
            initialize(self.bias, self.bias_initializer)
            if self.unit_forget_bias:
                with torch.no_grad():
                    self.bias[self.units : 2 * self.units] = 1.0  # Keras: [init(u), ones(u), init(2u)]

    def reset_states(self) -> None:
        """Forget the carried states (stateful): the next call starts from zeros."""
        self.states = None

    reset_state = reset_states  # Keras 3's name

    def initial_state(self, x: torch.Tensor) -> State:
        if self.stateful and self.states is not None:
            h, c = self.states
            if h.shape[0] != x.shape[0]:
                raise ValueError(
                    f"this stateful LSTM carries states for batch size {h.shape[0]}, received a batch of {x.shape[0]}; "
                    "feed batches of the declared size or call reset_states()"
                )
            return h.to(x), c.to(x)
        zeros = x.new_zeros(x.shape[0], self.units)
        return zeros, zeros

    def forward(self, x: torch.Tensor):
        if self.go_backwards:
            x = x.flip(1)
        h0, c0 = self.initial_state(x)
        if self.fused:
            sequence, h, c = self._fused(x, h0, c0)
        else:
            sequence, h, c = self.loop(x, h0, c0)
        if self.stateful:
            self.states = (h.detach(), c.detach())
        output = sequence if self.return_sequences else h
        return (output, h, c) if self.return_state else output

    def _fused(self, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.bias is None:
            params = [self.kernel, self.recurrent_kernel]
        else:
            params = [self.kernel, self.recurrent_kernel, self.bias, self.zero_bias]
        sequence, h, c = torch.lstm(
            x, (h0.unsqueeze(0), c0.unsqueeze(0)), params, self.bias is not None, 1, 0.0, self.training, False, True
        )
        return sequence, h[0], c[0]

    def loop(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The cell step by step, with any activations."""
        activation, recurrent = get_activation(self.activation), get_activation(self.recurrent_activation)
        projected = F.linear(x, self.kernel, self.bias)
        outputs = []
        for t in range(x.shape[1]):
            z = projected[:, t] + F.linear(h, self.recurrent_kernel)
            i, f, g, o = z.chunk(4, dim=-1)
            c = recurrent(f) * c + recurrent(i) * activation(g)
            h = recurrent(o) * activation(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h, c

    def extra_repr(self) -> str:
        return (
            f"in_features={self.kernel.shape[1]}, units={self.units}, activation={self.activation}, "
            f"recurrent_activation={self.recurrent_activation}, use_bias={self.bias is not None}, "
            f"return_sequences={self.return_sequences}, return_state={self.return_state}, "
            f"go_backwards={self.go_backwards}, stateful={self.stateful}"
        )
