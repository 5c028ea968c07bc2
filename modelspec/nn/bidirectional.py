"""Bidirectional as a torch module: a forward and a backward recurrent module, outputs merged as Keras does."""

from __future__ import annotations

import torch
from torch import nn

from modelspec.nn.recurrent import KerasRecurrent


class BidirectionalModule(nn.Module):
    """Keras's Bidirectional wrapper.

    Args: forward_layer, backward_layer (a go_backwards KerasRecurrent), merge_mode (concat, sum, mul,
    ave, None), forward_states (how many of the initial states go to the forward layer).
    Shape: forward(x, *initial_states, mask=None) -> the merged output (or forward and backward outputs
    when merge_mode is None), then with return_state the forward states and the backward states.
    The backward layer's returned sequence is flipped back to time order; with return_sequences,
    masked steps output zeros in both directions (Keras forces zero_output_for_mask).
    """

    def __init__(self, forward_layer: KerasRecurrent, backward_layer: KerasRecurrent, *, merge_mode: str | None, forward_states: int):
        super().__init__()
        self.forward_layer = forward_layer
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.forward_states = forward_states
        self.return_sequences = forward_layer.return_sequences
        self.return_state = forward_layer.return_state
        for layer in (forward_layer, backward_layer):
            layer.zero_output_for_mask = layer.return_sequences

    def forward(self, x: torch.Tensor, *initial_states: torch.Tensor, mask: torch.Tensor | None = None):
        y = self.forward_layer(x, *initial_states[: self.forward_states], mask=mask)
        y_rev = self.backward_layer(x, *initial_states[self.forward_states :], mask=mask)
        states: tuple[torch.Tensor, ...] = ()
        if self.return_state:
            (y, *forward_states), (y_rev, *backward_states) = y, y_rev
            states = (*forward_states, *backward_states)
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        if self.merge_mode is None:
            return (y, y_rev, *states)
        merged = merge(self.merge_mode, y, y_rev)
        return (merged, *states) if states else merged

    def reset_states(self) -> None:
        """Forget the carried states of both directions (stateful)."""
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states  # Keras 3's name

    def extra_repr(self) -> str:
        return f"merge_mode={self.merge_mode}"


def merge(mode: str, y: torch.Tensor, y_rev: torch.Tensor) -> torch.Tensor:
    """Keras's merge modes."""
    if mode == "concat":
        return torch.cat([y, y_rev], dim=-1)
    if mode == "sum":
        return y + y_rev
    if mode == "ave":
        return (y + y_rev) / 2
    if mode == "mul":
        return y * y_rev
    raise ValueError(f"unknown merge_mode {mode!r}: expected concat, sum, ave, mul or None")
