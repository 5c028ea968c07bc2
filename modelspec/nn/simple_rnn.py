"""SimpleRNN as a torch module: h = activation(x_t @ kernel.T + bias + h @ recurrent_kernel.T).

With tanh or relu this is torch's Elman RNN, so `torch.rnn_tanh` / `torch.rnn_relu` run it with a zero
second bias (torch has two, Keras one); any other activation runs the step loop.
"""

from __future__ import annotations

import torch

from modelspec.nn.activations import get_activation
from modelspec.nn.init import initialize
from modelspec.nn.recurrent import KerasRecurrent, States, single_layer_hx

_FUSED_KERNELS = {"tanh": torch.rnn_tanh, "relu": torch.rnn_relu}


class KerasSimpleRNN(KerasRecurrent):
    """Keras's SimpleRNN layer (see KerasRecurrent for the arguments, shapes, masks and states).

    Weights: kernel (units, in_features), recurrent_kernel (units, units), bias (units,).
    """

    gates = 1
    state_count = 1

    def __init__(self, in_features: int, units: int, **options):
        super().__init__(in_features, units, **options)
        self.register_buffer("zero_bias", torch.zeros(units), persistent=False)
        self.fused = self.allow_fused and self.activation in _FUSED_KERNELS
        self._activation = get_activation(self.activation)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize(self.kernel, self.kernel_initializer)
        initialize(self.recurrent_kernel, self.recurrent_initializer)
        if self.bias is not None:
            initialize(self.bias, self.bias_initializer)

    def step(self, projected: torch.Tensor, states: States, recurrent_masks: list[torch.Tensor] | None) -> tuple[torch.Tensor, States]:
        (h,) = states
        h = self._activation(projected + self.recurrent_projection(h, recurrent_masks))
        return h, (h,)

    def fused_call(self, data: torch.Tensor, batch_sizes: torch.Tensor | None, states: States) -> tuple[torch.Tensor, States]:
        has_bias = self.bias is not None
        params = [self.kernel, self.recurrent_kernel, *([self.bias, self.zero_bias] if has_bias else [])]
        (hx,) = single_layer_hx(states)
        kernel = _FUSED_KERNELS[self.activation]
        if batch_sizes is None:
            output, h = kernel(data, hx, params, has_bias, 1, 0.0, self.training, False, True)
        else:
            output, h = kernel(data, batch_sizes, hx, params, has_bias, 1, 0.0, self.training, False)
        return output, (h[0],)
