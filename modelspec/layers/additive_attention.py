"""AdditiveAttention: Bahdanau-style attention over [query, value] or [query, value, key].

    - {type: AdditiveAttention, inputs: [decoder_steps, encoder_steps]}    # (B, Tq, d), (B, Tv, d) -> (B, Tq, d)
    - {type: AdditiveAttention, use_scale: false, inputs: [q, v, k]}

Keras's computation: scores = sum(scale * tanh(query + key)) over the dim (scale: a (dim,) weight,
glorot_uniform, with use_scale, the default), a softmax over the value steps, and the output mixes the
value vectors: (B, Tq, value dim). Parameters: dim with use_scale, else 0.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.attention import ScoreAttention
from modelspec.layers.base import ModuleRecord, Shape, Weight, module_record, register


@register
class AdditiveAttention(ScoreAttention):
    """Additive (Bahdanau) attention."""

    type: Literal["AdditiveAttention"]
    use_scale: bool = Field(True, description="Learn a (dim,) scale of the tanh terms.")

    def _dim(self, input_shapes: list[Shape]) -> int:
        query, _, _ = self._check(input_shapes)
        return self.known(query[2], "query dim")

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        return {"scale": Weight((self._dim(input_shapes),))} if self.use_scale else {}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.attention:BahdanauAttention",
            self._dim(input_shapes) if self.use_scale else None,
            dropout=self.dropout,
            use_causal_mask=self.use_causal_mask,
            return_attention_scores=self.return_attention_scores,
        )
