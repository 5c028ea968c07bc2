"""Attention: dot-product attention (Luong et al., 2015) over [query, value] or [query, value, key].

    - {type: Attention, inputs: [decoder_steps, encoder_steps]}                 # (B, Tq, d), (B, Tv, d) -> (B, Tq, d)
    - {type: Attention, use_scale: true, score_mode: concat, inputs: [q, v, k]}
    - {type: Attention, use_causal_mask: true, inputs: [x, x]}

Keras's computation: scores = query @ key^T (times `scale` with use_scale), or with score_mode
concat concat_score_weight * sum(tanh(scale * (query + key))); a softmax over the value steps;
the output mixes the value vectors: (B, Tq, value dim). Weights: scale () and concat_score_weight
(), both initialised to 1, when used. `ScoreAttention` is the part AdditiveAttention shares.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import NonNegativeInt, Probability
from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, Weight, format_shape, module_record, register


class ScoreAttention(LayerConfig):
    """Keras's Attention and AdditiveAttention: arguments and shape rules (not a layer type itself)."""

    use_scale: bool = Field(False, description="Learn a scale for the attention scores.")
    dropout: Probability = Field(0.0, description="Dropout rate on the attention distribution while training.")
    seed: NonNegativeInt | None = Field(
        None, description="Accepted for Keras compatibility; dropout masks come from torch's global generator (seeded by training)."
    )
    use_causal_mask: bool = Field(False, description="Keras's call argument: query step i attends only to value steps j <= i.")
    return_attention_scores: bool = Field(
        False, description="Keras's call argument: also output the attention distribution (B, Tq, Tv)."
    )

    family = "attention"
    arity = (2, 3)
    consumes_mask = True
    mask_per_input = True

    def _check(self, input_shapes: list[Shape]) -> tuple[Shape, Shape, Shape]:
        query, value = input_shapes[0], input_shapes[1]
        key = input_shapes[2] if len(input_shapes) > 2 else value
        name = self.layer_type
        for role, shape in (("query", query), ("value", value), ("key", key)):
            if len(shape) != 3:
                raise ShapeError(f"{name} {role} must have rank 3 (batch, steps, dim), received {format_shape(shape)}")
        if not all(a is None or b is None or a == b for a, b in ((query[0], value[0]), (value[0], key[0]), (value[1], key[1]))):
            raise ShapeError(
                f"{name} needs one batch size and as many key as value steps, received query {format_shape(query)}, "
                f"value {format_shape(value)} and key {format_shape(key)}"
            )
        if query[2] is not None and key[2] is not None and query[2] != key[2]:
            raise ShapeError(f"{name} query and key must have the same dim, received {format_shape(query)} and {format_shape(key)}")
        return query, value, key

    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        query, value, _ = self._check(input_shapes)
        output = (query[0], query[1], value[2])
        return [output, (query[0], query[1], value[1])] if self.return_attention_scores else [output]


@register
class Attention(ScoreAttention):
    """Dot-product (Luong) attention; concat scores with score_mode: concat."""

    type: Literal["Attention"]
    score_mode: Literal["dot", "concat"] = Field("dot", description="dot: query . key; concat: sum(tanh(query + key)).")

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        self._check(input_shapes)
        found = {"scale": Weight(())} if self.use_scale else {}
        if self.score_mode == "concat":
            found["concat_score_weight"] = Weight(())
        return found

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        self._check(input_shapes)
        return module_record(
            "modelspec.nn.attention:LuongAttention",
            use_scale=self.use_scale,
            score_mode=self.score_mode,
            dropout=self.dropout,
            use_causal_mask=self.use_causal_mask,
            return_attention_scores=self.return_attention_scores,
        )
