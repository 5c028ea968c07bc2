"""Bidirectional: run a recurrent layer forwards and a copy of it backwards, and merge the outputs.

    - {type: Bidirectional, layer: {type: LSTM, units: 64, return_sequences: true}}     # (None, 20, 16) -> (None, 20, 128)
    - {type: Bidirectional, layer: {type: GRU, units: 32}, merge_mode: sum}           # (None, 20, 16) -> (None, 32)
    - {type: Bidirectional, layer: {type: LSTM, units: 8}, merge_mode: null}           # two outputs: forward, backward
    - {type: Bidirectional, layer: {type: GRU, units: 8},
       backward_layer: {type: GRU, units: 8, activation: relu, go_backwards: true}}

As in Keras: the backward layer is `layer` with go_backwards (unless `backward_layer` is given, which
must go the other way and agree on stateful, return_sequences and return_state); its returned
sequence is flipped back to time order before merging; with a mask and return_sequences, masked
steps output zeros; return_state adds the forward states then the backward states as outputs, and
initial states are given as inputs in that order: [x, *forward states, *backward states].
Weights are the two layers', under forward_layer.* and backward_layer.* (Keras's count: 2x the layer's).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from modelspec.errors import ShapeError
from modelspec.layers import AnyLayer
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, Weight, format_shape, module_record, register
from modelspec.layers.base_recurrent import RecurrentLayer


@register
class Bidirectional(LayerConfig):
    """Bidirectional wrapper for LSTM, GRU and SimpleRNN."""

    type: Literal["Bidirectional"]
    layer: AnyLayer = Field(description="The recurrent layer run forwards (LSTM, GRU or SimpleRNN).")
    merge_mode: Literal["concat", "sum", "mul", "ave"] | None = Field(
        "concat", description="How the two outputs combine: concat, sum, mul, ave, or null for two separate outputs."
    )
    backward_layer: AnyLayer | None = Field(
        None, description="The layer run backwards; default: a copy of `layer` with go_backwards: true."
    )

    family = "recurrent"
    wraps_layer = True
    layer_fields = {"layer": False, "backward_layer": True}
    consumes_mask = True
    arity = (1, 5)

    @model_validator(mode="after")
    def _check_layers(self) -> Bidirectional:
        for key, inner in (("layer", self.layer), ("backward_layer", self.backward_layer)):
            if inner is not None and not isinstance(inner, RecurrentLayer):
                raise ValueError(
                    f"Bidirectional {key} must be a recurrent layer (GRU, LSTM, SimpleRNN), received {inner.layer_type}")
        forward, backward = self.layer, self.backward()
        if forward.go_backwards == backward.go_backwards:
            which = "backward_layer" if self.backward_layer is not None else "the copy of layer"
            raise ValueError(
                f"Bidirectional's forward and backward layers must have different go_backwards, received "
                f"go_backwards={forward.go_backwards} for layer and for {which}"
            )
        for key in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, key) != getattr(backward, key):
                raise ValueError(
                    f"Bidirectional's layer and backward_layer must agree on {key}, received "
                    f"{getattr(forward, key)} and {getattr(backward, key)}"
                )
        return self

    # ----- the two layers ---------------------------------------------------------------------------
    def backward(self) -> RecurrentLayer:
        """The layer run backwards: backward_layer, or `layer` with go_backwards (Keras)."""
        if self.backward_layer is not None:
            return self.backward_layer
        return self.layer.model_copy(update={"go_backwards": True})

    def named_nested_layers(self) -> dict[str, LayerConfig]:
        return {"forward_layer": self.layer, "backward_layer": self.backward()}

    @property
    def stateful(self) -> bool:
        """Keras's Bidirectional.stateful (training then keeps batch order and resets states each epoch)."""
        return self.layer.stateful

    def keeps_mask(self) -> bool:
        return self.layer.return_sequences

    def _split(self, input_shapes: list[Shape]) -> tuple[list[Shape], list[Shape]]:
        forward, backward = self.layer, self.backward()
        counts = len(forward.state_names), len(backward.state_names)
        states = input_shapes[1:]
        if states and len(states) != sum(counts):
            raise ShapeError(
                f"Bidirectional takes the sequence, or the sequence with {counts[0]} forward and {counts[1]} backward "
                f"initial state(s), received {len(input_shapes)} inputs"
            )
        x = input_shapes[:1]
        return [*x, *states[: counts[0]]], [*x, *states[counts[0] :]]

    # ----- contract -------------------------------------------------------------------------------
    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        forward_inputs, backward_inputs = self._split(input_shapes)
        forward = self.layer.output_shapes(forward_inputs)
        backward = self.backward().output_shapes(backward_inputs)
        y, y_rev = forward[0], backward[0]
        if self.merge_mode is None:
            outputs = [y, y_rev]
        elif self.merge_mode == "concat":
            outputs = [(*y[:-1], y[-1] + y_rev[-1])]
        else:
            if y != y_rev:
                raise ShapeError(
                    f"Bidirectional merge_mode={self.merge_mode} needs equal forward and backward outputs, "
                    f"received {format_shape(y)} and {format_shape(y_rev)}"
                )
            outputs = [y]
        return [*outputs, *forward[1:], *backward[1:]]

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        forward_inputs, backward_inputs = self._split(input_shapes)
        found = {f"forward_layer.{n}": w for n, w in self.layer.weights(forward_inputs).items()}
        found.update({f"backward_layer.{n}": w for n, w in self.backward().weights(backward_inputs).items()})
        return found

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        forward_inputs, backward_inputs = self._split(input_shapes)
        backward = self.backward()
        return module_record(
            "modelspec.nn.bidirectional:BidirectionalModule",
            self.layer.module(forward_inputs),
            backward.module(backward_inputs),
            merge_mode=self.merge_mode,
            forward_states=len(self.layer.state_names),
        )
