"""What LSTM, GRU and SimpleRNN share: Keras's RNN arguments, shape rules, weights and masking.

Not a layer type itself (no `type`, not registered). A recurrent layer reads (batch, time, features)
and, optionally, its initial states as extra inputs, Keras's `layer(x, initial_state=[h, c])`:

    - {name: decoder, type: LSTM, units: 32, inputs: [targets, "encoder[1]", "encoder[2]"]}

Weights in PyTorch's layout with Keras's gate order: kernel (gates*units, features),
recurrent_kernel (gates*units, units) and the bias Keras has. A mask (Embedding mask_zero, Masking)
is consumed: masked steps keep the previous states; the sequence returned with return_sequences
repeats the previous output there, and the mask is passed on.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from modelspec.activations import ActivationName
from modelspec.config import NonNegativeInt, PositiveInt, Probability
from modelspec.errors import ShapeError
from modelspec.initializers import InitializerName
from modelspec.layers.base import LayerConfig, Shape, Weight, format_shape
from modelspec.regularizers import Constraint, Regularized, Regularizer


class RecurrentLayer(Regularized, LayerConfig):
    """Keras's RNN arguments common to LSTM, GRU and SimpleRNN."""

    units: PositiveInt = Field(description="Dimensionality of the output space (and of the states).")
    activation: ActivationName = Field("tanh", description="Activation of the candidate state (and of LSTM's output).")
    use_bias: bool = Field(True, description="Whether the layer has a bias.")
    kernel_initializer: InitializerName = Field("glorot_uniform", description="Initializer of the input kernel.")
    recurrent_initializer: InitializerName = Field("orthogonal", description="Initializer of the recurrent kernel.")
    bias_initializer: InitializerName = Field("zeros", description="Initializer of the bias.")
    recurrent_regularizer: Regularizer | None = Field(None, description="Penalty on the recurrent kernel added to the loss.")
    recurrent_constraint: Constraint | None = Field(None, description="Projection of the recurrent kernel after each update.")
    dropout: Probability = Field(0.0, description="Fraction of the input features dropped while training (one mask for all steps).")
    recurrent_dropout: Probability = Field(
        0.0, description="Fraction of the state units dropped in the recurrent transformation while training (one mask for all steps)."
    )
    seed: NonNegativeInt | None = Field(
        None, description="Accepted for Keras compatibility; dropout masks come from torch's global generator (seeded by training)."
    )
    return_sequences: bool = Field(False, description="Return the whole output sequence instead of the last output.")
    return_state: bool = Field(False, description="Also return the last states as extra outputs.")
    go_backwards: bool = Field(False, description="Process the sequence backwards; a returned sequence is in processing (reversed) order.")
    stateful: bool = Field(False, description="Use each batch's last states as the next batch's initial states; needs a fixed batch size.")
    unroll: bool = Field(False, description="Accepted for Keras compatibility; torch runs the same step loop either way.")
    input_dim: PositiveInt | None = Field(None, description="Keras 2, first layer only: the feature size.")
    input_length: PositiveInt | None = Field(None, description="Keras 2, first layer only: the sequence length (with input_dim).")

    family = "recurrent"
    consumes_mask = True
    input_declaration_keys = ("input_dim", "input_length")
    arity = (1, 2)
    #: Gate blocks stacked in the kernels (LSTM 4, GRU 3, SimpleRNN 1) and states carried (LSTM: h and c).
    gates: ClassVar[int] = 1
    state_names: ClassVar[tuple[str, ...]] = ("h",)

    # ----- contract -------------------------------------------------------------------------------
    def keeps_mask(self) -> bool:
        return self.return_sequences

    def declared_feature_shape(self) -> tuple[int | None, ...] | None:
        if self.input_dim is None:
            if self.input_length is not None:
                raise ShapeError(f"{self.layer_type} input_length={self.input_length} needs input_dim too (the feature size)")
            return None
        return (self.input_length, self.input_dim)

    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        self.features(input_shapes)
        batch, time = input_shapes[0][0], input_shapes[0][1]
        output = (batch, time, self.units) if self.return_sequences else (batch, self.units)
        states = [(batch, self.units)] * len(self.state_names)
        return [output, *states] if self.return_state else [output]

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        features, rows = self.features(input_shapes), self.gates * self.units
        found = {"kernel": Weight((rows, features)), "recurrent_kernel": Weight((rows, self.units))}
        if self.use_bias:
            found["bias"] = Weight(self.bias_shape())
        return found

    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def weight_penalties(self) -> list[tuple[str, Any]]:
        return self._present(super().weight_penalties(), self.recurrent_regularizer)

    def weight_constraints(self) -> list[tuple[str, Any]]:
        return self._present(super().weight_constraints(), self.recurrent_constraint)

    def _present(self, found: list[tuple[str, Any]], recurrent: Any) -> list[tuple[str, Any]]:
        if recurrent is not None:
            found = [*found, ("recurrent_kernel", recurrent)]
        return [(name, config) for name, config in found if name != "bias" or self.use_bias]

    # ----- shape rules ----------------------------------------------------------------------------
    def features(self, input_shapes: list[Shape]) -> int:
        """The feature size of the sequence input; checks the initial-state inputs and the stateful batch."""
        name, count = self.layer_type, len(self.state_names)
        if len(input_shapes) not in (1, 1 + count):
            states = ", ".join(self.state_names)
            raise ShapeError(
                f"{name} takes the sequence, or the sequence and its {count} initial state(s) [x, {states}], "
                f"received {len(input_shapes)} inputs"
            )
        shape = input_shapes[0]
        self.expect_rank(shape, 3)
        if shape[2] is None:
            raise ShapeError(f"{name} needs a known feature size (batch, time, features), received shape {format_shape(shape)}")
        if self.stateful and shape[0] is None:
            raise ShapeError(
                f"a stateful {name} needs a fixed batch size: give batch_input_shape or batch_size (received shape {format_shape(shape)})"
            )
        for state_name, state in zip(self.state_names, input_shapes[1:]):
            fits = len(state) == 2 and state[1] == self.units and (state[0] is None or shape[0] is None or state[0] == shape[0])
            if not fits:
                raise ShapeError(
                    f"{name} initial state {state_name} must have shape (batch, units) = {format_shape((shape[0], self.units))}, "
                    f"received {format_shape(state)}"
                )
        return shape[2]

    def module_options(self) -> dict[str, Any]:
        """Keyword arguments every recurrent module takes (modelspec.nn.recurrent.KerasRecurrent)."""
        keys = (
            "activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
            "dropout", "recurrent_dropout", "return_sequences", "return_state", "go_backwards", "stateful",
        )
        return {key: getattr(self, key) for key in keys}


#: Keras's use_cudnn (LSTM, GRU): "auto" uses the fused kernel when the configuration allows it.
UseCudnn = Literal["auto"] | bool
