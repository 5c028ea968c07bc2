"""MultiHeadAttention (Vaswani et al., 2017), Keras's projections, weights and masks.

    - {type: MultiHeadAttention, num_heads: 8, key_dim: 64, inputs: [x, x]}                 # self-attention
    - {type: MultiHeadAttention, num_heads: 2, key_dim: 16, inputs: [target, source]}       # query, value (= key)
    - {type: MultiHeadAttention, num_heads: 2, key_dim: 16, inputs: [q, v, k]}              # query, value, key
    - {type: MultiHeadAttention, num_heads: 2, key_dim: 16, inputs: [q, v, v, allowed]}     # attention_mask (B, T, S)
    - {type: MultiHeadAttention, num_heads: 4, key_dim: 8, use_causal_mask: true, inputs: [x, x]}

Inputs are Keras's call arguments in order: query (B, *T, dim), value (B, *S, dim), key (default:
value) and attention_mask (True/nonzero = may attend; shape (B, *T, *S) over the attention axes,
size 1 broadcasts). The output is (B, *T, query dim), or (B, *T, *output_shape).

Weights keep Keras's shapes and names (EinsumDense sublayers): query.kernel (query dim, heads,
key_dim), query.bias (heads, key_dim); key.* likewise with key_dim; value.* with value_dim;
attention_output.kernel (heads, value_dim, *output), attention_output.bias (*output). Parameters:
dq*h*k + h*k + dk*h*k + h*k + dv*h*v + h*v + h*v*E + E.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from modelspec.config import NonNegativeInt, PositiveInt, Probability
from modelspec.errors import ShapeError
from modelspec.initializers import InitializerName
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, Weight, format_shape, module_record, register
from modelspec.regularizers import MaxNorm, Regularized, UnitNorm

_SUBLAYERS = ("query", "key", "value", "attention_output")


def compatible(a: int | None, b: int | None) -> bool:
    return a is None or b is None or a == b


@register
class MultiHeadAttention(Regularized, LayerConfig):
    """Multi-head dot-product attention over [query, value], [query, value, key] or [query, value, key, attention_mask]."""

    type: Literal["MultiHeadAttention"]
    num_heads: PositiveInt = Field(description="Number of attention heads.")
    key_dim: PositiveInt = Field(description="Size of each attention head for query and key.")
    value_dim: PositiveInt | None = Field(None, description="Size of each attention head for value; default: key_dim.")
    dropout: Probability = Field(0.0, description="Dropout rate on the attention probabilities while training.")
    use_bias: bool = Field(True, description="Whether the projections have biases.")
    output_shape: PositiveInt | list[PositiveInt] | None = Field(
        None, description="Shape of each output position besides batch and sequence; default: the query's last dimension."
    )
    attention_axes: int | list[int] | None = Field(
        None, description="Axes of the inputs attention runs over (batch and features excluded); default: all of them."
    )
    kernel_initializer: InitializerName = Field("glorot_uniform", description="Initializer of the projection kernels.")
    bias_initializer: InitializerName = Field("zeros", description="Initializer of the projection biases.")
    seed: NonNegativeInt | None = Field(
        None, description="Accepted for Keras compatibility; dropout masks come from torch's global generator (seeded by training)."
    )
    use_causal_mask: bool = Field(False, description="Keras's call argument: position i attends only to positions j <= i.")
    return_attention_scores: bool = Field(
        False, description="Keras's call argument: also output the attention probabilities (B, heads, *T, *S)."
    )

    family = "attention"
    arity = (2, 4)
    consumes_mask = True
    mask_per_input = True
    regularized_weights: ClassVar[dict[str, tuple[str, ...]]] = {
        "kernel": tuple(f"{name}.kernel" for name in _SUBLAYERS),
        "bias": tuple(f"{name}.bias" for name in _SUBLAYERS),
    }

    @model_validator(mode="after")
    def _check_arguments(self) -> MultiHeadAttention:
        for key in ("kernel_constraint", "bias_constraint"):
            if isinstance(getattr(self, key), (MaxNorm, UnitNorm)):
                raise ValueError(  # noqa: TRY004 (pydantic reports ValueError)
                    f"MultiHeadAttention {key} {getattr(self, key).type} is not supported: its norm axis on the "
                    "multi-dimensional projection weights differs from Dense's; use non_neg or a regularizer"
                )
        return self

    def weight_penalties(self) -> list[tuple[str, Any]]:
        return [(name, config) for name, config in super().weight_penalties() if self.use_bias or not name.endswith(".bias")]

    def weight_constraints(self) -> list[tuple[str, Any]]:
        return [(name, config) for name, config in super().weight_constraints() if self.use_bias or not name.endswith(".bias")]

    # ----- shape rules ------------------------------------------------------------------------------
    @property
    def head_value_dim(self) -> int:
        return self.value_dim or self.key_dim

    def projected_output(self, query: Shape) -> tuple[int, ...]:
        if self.output_shape is None:
            return (self.known(query[-1], "query feature size"),)
        return (self.output_shape,) if isinstance(self.output_shape, int) else tuple(self.output_shape)

    def axes(self, rank: int) -> tuple[int, ...]:
        """The attention axes of inputs of this rank, as non-negative indices (Keras counts negative ones from the end)."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        given = [self.attention_axes] if isinstance(self.attention_axes, int) else self.attention_axes
        axes = tuple(sorted({axis + rank if axis < 0 else axis for axis in given}))
        if not axes or any(not 1 <= axis <= rank - 2 for axis in axes):
            raise ShapeError(
                f"MultiHeadAttention attention_axes {self.attention_axes} must name axes between the batch and the features "
                f"of rank-{rank} inputs (1 to {rank - 2}, or {-(rank - 1)} to -2)"
            )
        return axes

    def _check(self, input_shapes: list[Shape]) -> tuple[Shape, Shape, Shape]:
        query, value = input_shapes[0], input_shapes[1]
        key = input_shapes[2] if len(input_shapes) > 2 else value
        names = ("query", "value", "key")
        for name, shape in zip(names, (query, value, key)):
            if len(shape) < 3:
                raise ShapeError(f"MultiHeadAttention {name} must have rank 3 or more (batch, ..., features), received {format_shape(shape)}")
        if not len(query) == len(value) == len(key):
            raise ShapeError(
                f"MultiHeadAttention query, value and key must have the same rank, received {format_shape(query)}, "
                f"{format_shape(value)} and {format_shape(key)}"
            )
        if not all(compatible(a, b) for a, b in zip(value[:-1], key[:-1])):
            raise ShapeError(
                f"all dimensions of value and key except the last one must be equal, received value {format_shape(value)} "
                f"and key {format_shape(key)}"
            )
        axes = self.axes(len(query))
        if self.use_causal_mask and len(axes) != 1:
            raise ShapeError(f"MultiHeadAttention use_causal_mask needs one attention axis, received attention axes {axes}")
        free = [i for i in range(len(query) - 1) if i not in axes]  # batch and the non-attention axes
        if not all(compatible(query[i], value[i]) for i in free):
            raise ShapeError(
                f"MultiHeadAttention query and value must agree outside the attention axes {axes} and the features, "
                f"received query {format_shape(query)} and value {format_shape(value)}"
            )
        if len(input_shapes) == 4:
            self._check_attention_mask(input_shapes[3], query, value, axes)
        return query, value, key

    def _check_attention_mask(self, mask: Shape, query: Shape, value: Shape, axes: tuple[int, ...]) -> None:
        free = [i for i in range(1, len(query) - 1) if i not in axes]
        expected = (query[0], *(query[i] for i in free), *(query[i] for i in axes), *(value[i] for i in axes))
        fits = len(mask) == len(expected) and all(m == 1 or compatible(m, e) for m, e in zip(mask, expected))
        if not fits:
            raise ShapeError(
                f"MultiHeadAttention attention_mask must have shape (batch, query steps, value steps) = {format_shape(expected)} "
                f"(size 1 broadcasts), received {format_shape(mask)}"
            )

    # ----- contract -------------------------------------------------------------------------------
    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        query, value, _ = self._check(input_shapes)
        output = (*query[:-1], *self.projected_output(query))
        if not self.return_attention_scores:
            return [output]
        axes = self.axes(len(query))
        free = [i for i in range(1, len(query) - 1) if i not in axes]
        scores = (query[0], *(query[i] for i in free), self.num_heads, *(query[i] for i in axes), *(value[i] for i in axes))
        return [output, scores]

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        query, value, key = self._check(input_shapes)
        heads, k, v = self.num_heads, self.key_dim, self.head_value_dim
        out = self.projected_output(query)
        found: dict[str, Weight] = {}
        for name, shape, size in (("query", query, k), ("key", key, k), ("value", value, v)):
            found[f"{name}.kernel"] = Weight((self.known(shape[-1], f"{name} feature size"), heads, size))
            if self.use_bias:
                found[f"{name}.bias"] = Weight((heads, size))
        found["attention_output.kernel"] = Weight((heads, v, *out))
        if self.use_bias:
            found["attention_output.bias"] = Weight(out)
        return found

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        query, value, key = self._check(input_shapes)
        return module_record(
            "modelspec.nn.multi_head_attention:KerasMultiHeadAttention",
            query[-1],
            value[-1],
            key[-1],
            num_heads=self.num_heads,
            key_dim=self.key_dim,
            value_dim=self.head_value_dim,
            output_shape=self.projected_output(query),
            attention_axes=self.axes(len(query)),
            dropout=self.dropout,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            use_causal_mask=self.use_causal_mask,
            return_attention_scores=self.return_attention_scores,
        )

