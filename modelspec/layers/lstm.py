"""LSTM: long short-term memory recurrent layer (Hochreiter & Schmidhuber, 1997), Keras's equations.

    - {type: LSTM, units: 64}                                     # (None, 20, 16) -> (None, 64)
    - {type: LSTM, units: 64, return_sequences: true}             # (None, 20, 16) -> (None, 20, 64)
    - {type: LSTM, units: 32, input_length: 20, input_dim: 16}    # Keras 2 first-layer style
    - {type: LSTM, units: 32, stateful: true, batch_input_shape: [8, 20, 16]}

Weights in PyTorch's layout with gates ordered i, f, c (torch's g), o: kernel (4*units, features),
recurrent_kernel (4*units, units) and ONE bias (4*units) as in Keras, so that parameters
number 4 * (units * (features + units) + units).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.activations import ActivationName
from modelspec.config import PositiveInt
from modelspec.errors import ShapeError
from modelspec.initializers import InitializerName
from modelspec.layers.base import LayerConfig, Shape, Weight, format_shape, register
from modelspec.regularizers import Regularized


@register
class LSTM(Regularized, LayerConfig):
    """(batch, time, features) -> (batch, units), or (batch, time, units) with return_sequences."""

    type: Literal["LSTM"]
    units: PositiveInt = Field(description="Dimensionality of the output space (and of both states).")
    activation: ActivationName = Field("tanh", description="Activation of the cell candidate and of the output.")
    recurrent_activation: ActivationName = Field("sigmoid", description="Activation of the input, forget and output gates.")
    use_bias: bool = Field(True, description="Whether the layer has a bias vector.")
    kernel_initializer: InitializerName = Field("glorot_uniform", description="Initializer of the input kernel.")
    recurrent_initializer: InitializerName = Field("orthogonal", description="Initializer of the recurrent kernel.")
    bias_initializer: InitializerName = Field("zeros", description="Initializer of the bias.")
    unit_forget_bias: bool = Field(True, description="Add 1 to the forget gate's bias at initialization (bias_initializer becomes zeros there).")
    return_sequences: bool = Field(False, description="Return the whole output sequence instead of the last output.")
    return_state: bool = Field(False, description="Also return the last states: outputs become [output, h, c].")
    go_backwards: bool = Field(False, description="Process the sequence backwards; a returned sequence is in processing (reversed) order.")
    stateful: bool = Field(False, description="Use each batch's last states as the next batch's initial states; needs a fixed batch size.")
    input_dim: PositiveInt | None = Field(None, description="Keras 2, first layer only: the feature size.")
    input_length: PositiveInt | None = Field(None, description="Keras 2, first layer only: the sequence length (with input_dim).")

    family = "recurrent"
    input_declaration_keys = ("input_dim", "input_length")

    def declared_feature_shape(self) -> tuple[int | None, ...] | None:
        if self.input_dim is None:
            if self.input_length is not None:
                raise ShapeError(f"LSTM input_length={self.input_length} needs input_dim too (the feature size)")
            return None
        return (self.input_length, self.input_dim)

    def _features(self, input_shapes: list[Shape]) -> int:
        shape = self.single(input_shapes)
        self.expect_rank(shape, 3)
        if shape[2] is None:
            raise ShapeError(f"LSTM needs a known feature size (batch, time, features), received shape {format_shape(shape)}")
        if self.stateful and shape[0] is None:
            raise ShapeError(
                f"a stateful LSTM needs a fixed batch size: give batch_input_shape or batch_size (received shape {format_shape(shape)})"
            )
        return shape[2]

    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        self._features(input_shapes)
        batch, time = input_shapes[0][0], input_shapes[0][1]
        output = (batch, time, self.units) if self.return_sequences else (batch, self.units)
        return [output, (batch, self.units), (batch, self.units)] if self.return_state else [output]

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        features, gates = self._features(input_shapes), 4 * self.units
        found = {"kernel": Weight((gates, features)), "recurrent_kernel": Weight((gates, self.units))}
        if self.use_bias:
            found["bias"] = Weight((gates,))
        return found

    def build(self, input_shapes: list[Shape]):
        from modelspec.nn.lstm import KerasLSTM

        return KerasLSTM(
            self._features(input_shapes),
            self.units,
            activation=self.activation,
            recurrent_activation=self.recurrent_activation,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            recurrent_initializer=self.recurrent_initializer,
            bias_initializer=self.bias_initializer,
            unit_forget_bias=self.unit_forget_bias,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            stateful=self.stateful,
        )
