"""What the recurrent modules share: states, stateful carry, go_backwards, masks, dropout, fused or loop.

A subclass (KerasLSTM, KerasGRU, KerasSimpleRNN) gives its weights, one `step` of Keras's cell and,
when the configuration maps onto one of torch's fused kernels (torch.lstm, torch.gru,
torch.rnn_tanh/rnn_relu), `fused_call`. This base decides which runs:

- the fused kernel when `fused` and no recurrent dropout is active; with a mask, when every
  sequence is right- or left-padded (a packed sequence, shifted for left padding), else the loop;
- the step loop (`loop`) otherwise.

Keras's conventions, from keras/src/layers/rnn/rnn.py and the backends' `rnn`:
- masked steps keep the previous states; their output repeats the previous output (zeros before the
  first kept step), or is zero with `zero_output_for_mask` (Bidirectional with return_sequences);
- go_backwards flips the input and the mask, and a returned sequence stays in processing order;
- dropout masks are drawn once per call and reused at every step (inverted dropout). Without
  recurrent dropout one input mask is shared by all gates (Keras's implementation 2); with it,
  Keras switches to implementation 1: one input mask and one recurrent mask per gate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from modelspec.activations import ActivationName
from modelspec.initializers import InitializerName

States = tuple[torch.Tensor, ...]


class KerasRecurrent(nn.Module):
    """Base of Keras's recurrent layers.

    Args: in_features, units, activation, use_bias, kernel_initializer, recurrent_initializer,
    bias_initializer, dropout, recurrent_dropout, return_sequences, return_state, go_backwards,
    stateful, allow_fused (False: always run the step loop, Keras's use_cudnn=False).
    Shape: forward(x, *initial_states, mask=None): x (batch, time, in_features); initial states and
    returned states (batch, units); mask bool (batch, time), True = keep. Returns (batch, units), or
    (batch, time, units) with return_sequences; with return_state a tuple (output, *states).
    Weights: kernel (gates*units, in_features), recurrent_kernel (gates*units, units), bias (subclass).

    A stateful module keeps its last states, detached, as the next call's initial states;
    reset_states() clears them.
    """

    gates: ClassVar[int] = 1
    state_count: ClassVar[int] = 1
    #: Whether torch's fused kernel computes this configuration (set by the subclass; recurrent dropout still loops).
    fused: bool = False

    def __init__(
        self,
        in_features: int,
        units: int,
        *,
        activation: ActivationName = "tanh",
        use_bias: bool = True,
        kernel_initializer: InitializerName = "glorot_uniform",
        recurrent_initializer: InitializerName = "orthogonal",
        bias_initializer: InitializerName = "zeros",
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        allow_fused: bool = True,
    ):
        super().__init__()
        self.units = units
        self.kernel = nn.Parameter(torch.empty(self.gates * units, in_features))
        self.recurrent_kernel = nn.Parameter(torch.empty(self.gates * units, units))
        self.bias = nn.Parameter(torch.empty(self.bias_shape(units))) if use_bias else None
        self.activation = activation
        self.kernel_initializer, self.recurrent_initializer = kernel_initializer, recurrent_initializer
        self.bias_initializer = bias_initializer
        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful = go_backwards, stateful
        self.allow_fused = allow_fused
        #: Keras's zero_output_for_mask: masked steps of a returned sequence are zeros (Bidirectional sets it).
        self.zero_output_for_mask = False
        self.states: States | None = None

    # ----- what a subclass provides ---------------------------------------------------------------
    def bias_shape(self, units: int) -> tuple[int, ...]:
        return (self.gates * units,)

    @property
    def input_bias(self) -> torch.Tensor | None:
        """The bias added to the input projection (GRU with reset_after has a second, recurrent one)."""
        return self.bias

    def step(self, projected: torch.Tensor, states: States, recurrent_masks: list[torch.Tensor] | None) -> tuple[torch.Tensor, States]:
        """One step of Keras's cell: `projected` is x_t @ kernel.T + input bias; returns (output, new states)."""
        raise NotImplementedError

    def fused_call(self, data: torch.Tensor, batch_sizes: torch.Tensor | None, states: States) -> tuple[torch.Tensor, States]:
        """torch's fused kernel on a batch-first sequence (batch_sizes None) or a packed one: (output, states)."""
        raise NotImplementedError

    # ----- states ---------------------------------------------------------------------------------
    def reset_states(self) -> None:
        """Forget the carried states (stateful): the next call starts from zeros."""
        self.states = None

    reset_state = reset_states  # Keras 3's name

    def initial_states(self, x: torch.Tensor, given: Sequence[torch.Tensor]) -> States:
        batch = x.shape[0]
        if given:
            if len(given) != self.state_count:
                raise ValueError(f"{type(self).__name__} takes {self.state_count} initial state(s), received {len(given)}")
            for state in given:
                if tuple(state.shape) != (batch, self.units):
                    raise ValueError(f"initial states must have shape {(batch, self.units)}, received {tuple(state.shape)}")
            return tuple(state.to(x.dtype) for state in given)
        if self.stateful and self.states is not None:
            if self.states[0].shape[0] != batch:
                raise ValueError(
                    f"this stateful {type(self).__name__} carries states for batch size {self.states[0].shape[0]}, received a batch "
                    f"of {batch}; feed batches of the declared size or call reset_states()"
                )
            return tuple(state.to(x) for state in self.states)
        zeros = x.new_zeros(batch, self.units)
        return (zeros,) * self.state_count

    # ----- forward --------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, *initial_states: torch.Tensor, mask: torch.Tensor | None = None):
        states = self.initial_states(x, initial_states)
        if mask is not None:
            if tuple(mask.shape) != tuple(x.shape[:2]):
                raise ValueError(f"the mask must have shape (batch, time) = {tuple(x.shape[:2])}, received {tuple(mask.shape)}")
            mask = mask.to(torch.bool)
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        input_masks, recurrent_masks = self.dropout_masks(x)
        result = None
        if self.fused and recurrent_masks is None:
            if input_masks is not None:
                x = x * input_masks[0].unsqueeze(1)
            result = self._fused(x, *states) if mask is None else self.fused_masked(x, mask, states)
            input_masks = None  # applied
        if result is None:
            result = self.loop(x, *states, mask=mask, input_masks=input_masks, recurrent_masks=recurrent_masks)
        sequence, *final = result
        if self.stateful:
            self.states = tuple(state.detach() for state in final)
        output = sequence if self.return_sequences else sequence[:, -1]
        return (output, *final) if self.return_state else output

    def dropout_masks(self, x: torch.Tensor) -> tuple[list[torch.Tensor] | None, list[torch.Tensor] | None]:
        """Keras's per-call dropout masks: (input masks (batch, features), recurrent masks (batch, units)), None when off."""
        if not self.training:
            return None, None
        count = self.gates if self.recurrent_dropout > 0 else 1

        def masks(rate: float, size: int) -> list[torch.Tensor] | None:
            if rate <= 0:
                return None
            return [x.new_empty(x.shape[0], size).bernoulli_(1.0 - rate) / (1.0 - rate) for _ in range(count)]

        return masks(self.dropout, x.shape[2]), masks(self.recurrent_dropout, self.units)

    def _fused(self, x: torch.Tensor, *states: torch.Tensor) -> tuple[torch.Tensor, ...]:
        output, final = self.fused_call(x, None, tuple(states))
        return (output, *final)

    def fused_masked(self, x: torch.Tensor, mask: torch.Tensor, states: States) -> tuple[torch.Tensor, ...] | None:
        """The fused kernel on padded sequences, with Keras's masked outputs; None when the mask is not plain padding."""
        time = x.shape[1]
        lengths = mask.sum(1)
        steps = torch.arange(time, device=x.device)
        right = steps < lengths[:, None]
        left = steps >= (time - lengths)[:, None]
        none_empty, all_kept, is_right, is_left = torch.stack(
            [(lengths > 0).all(), mask.all(), (mask == right).all(), (mask == left).all()]
        ).tolist()  # one synchronisation
        if all_kept:
            return self._fused(x, *states)
        if not none_empty or not (is_right or is_left):
            return None
        shift = None if is_right else time - lengths
        if shift is not None:  # left padding: move each sequence to the front
            x = x.gather(1, (steps[None] + shift[:, None]).clamp(max=time - 1)[..., None].expand(-1, -1, x.shape[2]))
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        sorted_states = tuple(state.index_select(0, packed.sorted_indices) for state in states)
        data, final = self.fused_call(packed.data, packed.batch_sizes, sorted_states)
        final = tuple(state.index_select(0, packed.unsorted_indices) for state in final)
        output = PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        sequence, _ = pad_packed_sequence(output, batch_first=True, total_length=time)
        if shift is not None:  # back to the end; the leading masked steps output zeros (no previous output yet)
            index = (steps[None] - shift[:, None]).clamp(min=0)
            sequence = sequence.gather(1, index[..., None].expand(-1, -1, self.units))
            fill = sequence.new_zeros(())
        elif self.zero_output_for_mask:
            fill = sequence.new_zeros(())
        else:  # trailing masked steps repeat the last kept output
            fill = sequence.gather(1, (lengths - 1)[:, None, None].expand(-1, 1, self.units))
        return (torch.where(mask[..., None], sequence, fill), *final)

    def loop(
        self,
        x: torch.Tensor,
        *states: torch.Tensor,
        mask: torch.Tensor | None = None,
        input_masks: list[torch.Tensor] | None = None,
        recurrent_masks: list[torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, ...]:
        """Keras's cell step by step, with any activations, masks and dropout: (sequence, *final states)."""
        projected = self.project(x, input_masks)
        outputs: list[torch.Tensor] = []
        previous = x.new_zeros(x.shape[0], self.units)
        for t in range(x.shape[1]):
            output, new_states = self.step(projected[:, t], states, recurrent_masks)
            if mask is not None:
                keep = mask[:, t, None]
                output = torch.where(keep, output, previous.new_zeros(()) if self.zero_output_for_mask else previous)
                new_states = tuple(torch.where(keep, new, old) for new, old in zip(new_states, states))
            states, previous = new_states, output
            outputs.append(output)
        return (torch.stack(outputs, dim=1), *states)

    def project(self, x: torch.Tensor, input_masks: list[torch.Tensor] | None) -> torch.Tensor:
        """x @ kernel.T + input bias for every step, each gate's block with its own dropout mask when there are several."""
        bias = self.input_bias
        if input_masks is None:
            return F.linear(x, self.kernel, bias)
        if len(input_masks) == 1:
            return F.linear(x * input_masks[0].unsqueeze(1), self.kernel, bias)
        biases = bias.chunk(self.gates) if bias is not None else (None,) * self.gates
        blocks = zip(input_masks, self.kernel.chunk(self.gates), biases)
        return torch.cat([F.linear(x * m.unsqueeze(1), w, b) for m, w, b in blocks], dim=-1)

    def recurrent_projection(self, h: torch.Tensor, recurrent_masks: list[torch.Tensor] | None) -> torch.Tensor:
        """h @ recurrent_kernel.T, each gate's block with its own dropout mask when there are several."""
        if recurrent_masks is None:
            return F.linear(h, self.recurrent_kernel)
        if len(recurrent_masks) == 1:
            return F.linear(h * recurrent_masks[0], self.recurrent_kernel)
        blocks = zip(recurrent_masks, self.recurrent_kernel.chunk(len(recurrent_masks)))
        return torch.cat([F.linear(h * m, w) for m, w in blocks], dim=-1)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.kernel.shape[1]}, units={self.units}, activation={self.activation}, "
            f"use_bias={self.bias is not None}, dropout={self.dropout}, recurrent_dropout={self.recurrent_dropout}, "
            f"return_sequences={self.return_sequences}, return_state={self.return_state}, "
            f"go_backwards={self.go_backwards}, stateful={self.stateful}"
        )


def single_layer_hx(states: States) -> list[torch.Tensor]:
    """torch's fused kernels take states as (num_layers=1, batch, units)."""
    return [state.unsqueeze(0) for state in states]
