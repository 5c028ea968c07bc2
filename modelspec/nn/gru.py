"""GRU as a torch module: Keras's equations, gate order and bias, PyTorch's fused kernel when possible.

Keras's cell (keras/src/layers/rnn/gru.py), gates in Keras's order z (update), r (reset), h (candidate):
    x_z, x_r, x_h = x_t @ kernel.T + input_bias
    reset_after=True (default):  r_z, r_r, r_h = h @ recurrent_kernel.T + recurrent_bias
        z = recurrent_activation(x_z + r_z);  r = recurrent_activation(x_r + r_r);  hh = activation(x_h + r * r_h)
    reset_after=False:  z, r as above without a recurrent bias;  hh = activation(x_h + (r * h) @ recurrent_kernel_h.T)
    h = z * h + (1 - z) * hh
reset_after=True with tanh and sigmoid is torch's GRU formulation (gates r, z, n; b_ih, b_hh), so
`torch.gru` runs it with the blocks reordered; reset_after=False or other activations run the step loop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from modelspec.activations import ActivationName
from modelspec.nn.activations import get_activation
from modelspec.nn.init import initialize
from modelspec.nn.recurrent import KerasRecurrent, States, single_layer_hx


class KerasGRU(KerasRecurrent):
    """Keras's GRU layer (see KerasRecurrent for the arguments, shapes, masks and states).

    Extra args: recurrent_activation, reset_after.
    Weights (Keras's gate order z, r, h in PyTorch's layout): kernel (3*units, in_features),
    recurrent_kernel (3*units, units), bias (2, 3*units) with rows [input bias, recurrent bias] when
    reset_after (Keras's shape), else (3*units,).
    """

    gates = 3
    state_count = 1

    def __init__(
        self,
        in_features: int,
        units: int,
        *,
        recurrent_activation: ActivationName = "sigmoid",
        reset_after: bool = True,
        **options,
    ):
        self.reset_after = reset_after  # read by bias_shape during the base's __init__
        super().__init__(in_features, units, **options)
        self.recurrent_activation = recurrent_activation
        self.fused = self.allow_fused and reset_after and self.activation == "tanh" and recurrent_activation == "sigmoid"
        self._activation, self._recurrent = get_activation(self.activation), get_activation(recurrent_activation)
        self.reset_parameters()

    def bias_shape(self, units: int) -> tuple[int, ...]:
        return (2, 3 * units) if self.reset_after else (3 * units,)

    def reset_parameters(self) -> None:
        initialize(self.kernel, self.kernel_initializer)
        initialize(self.recurrent_kernel, self.recurrent_initializer)
        if self.bias is not None:
            if self.reset_after:  # Keras's (2, 3u) layout: fans as Keras computes them for that shape
                with torch.no_grad():
                    self.bias.copy_(initialize(torch.empty(3 * self.units, 2), self.bias_initializer).T)
            else:
                initialize(self.bias, self.bias_initializer)

    @property
    def input_bias(self) -> torch.Tensor | None:
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def step(self, projected: torch.Tensor, states: States, recurrent_masks: list[torch.Tensor] | None) -> tuple[torch.Tensor, States]:
        (h,) = states
        x_z, x_r, x_h = projected.chunk(3, dim=-1)
        if self.reset_after:
            inner = self.recurrent_projection(h, recurrent_masks)
            if self.bias is not None:
                inner = inner + self.bias[1]
            r_z, r_r, r_h = inner.chunk(3, dim=-1)
            z, r = self._recurrent(x_z + r_z), self._recurrent(x_r + r_r)
            candidate = self._activation(x_h + r * r_h)
        else:
            h_z, h_r, h_h = (h, h, h) if recurrent_masks is None else (h * m for m in recurrent_masks)
            k_z, k_r, k_h = self.recurrent_kernel.chunk(3)
            z, r = self._recurrent(x_z + F.linear(h_z, k_z)), self._recurrent(x_r + F.linear(h_r, k_r))
            candidate = self._activation(x_h + F.linear(r * h_h, k_h))
        h = z * h + (1 - z) * candidate
        return h, (h,)

    def fused_call(self, data: torch.Tensor, batch_sizes: torch.Tensor | None, states: States) -> tuple[torch.Tensor, States]:
        params = [torch_order(self.kernel, 0), torch_order(self.recurrent_kernel, 0)]
        if self.bias is not None:
            params += [torch_order(self.bias[0], 0), torch_order(self.bias[1], 0)]
        (hx,) = single_layer_hx(states)
        has_bias = self.bias is not None
        if batch_sizes is None:
            output, h = torch.gru(data, hx, params, has_bias, 1, 0.0, self.training, False, True)
        else:
            output, h = torch.gru(data, batch_sizes, hx, params, has_bias, 1, 0.0, self.training, False)
        return output, (h[0],)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, recurrent_activation={self.recurrent_activation}, reset_after={self.reset_after}"


def torch_order(weight: torch.Tensor, dim: int) -> torch.Tensor:
    """Keras's gate blocks (z, r, h) along `dim` in torch's order (r, z, n)."""
    z, r, h = weight.chunk(3, dim=dim)
    return torch.cat([r, z, h], dim=dim)
