"""Embedding: turn integer indices into dense vectors looked up in a (input_dim, output_dim) table.

    - {type: Embedding, input_dim: 10000, output_dim: 128}
    - {type: Embedding, input_dim: 10000, output_dim: 128, input_length: 200}   # Keras 2 first-layer style
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.config import PositiveInt
from modelspec.initializers import InitializerName
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, Weight, module_record, register


@register
class Embedding(LayerConfig):
    """(batch, ...) integer indices in [0, input_dim) -> (batch, ..., output_dim)."""

    type: Literal["Embedding"]
    input_dim: PositiveInt = Field(description="Size of the vocabulary: the largest index + 1.")
    output_dim: PositiveInt = Field(description="Dimension of the dense embedding.")
    embeddings_initializer: InitializerName = Field("uniform", description="Initializer of the table; uniform is U(-0.05, 0.05).")
    mask_zero: bool = Field(False, description="Index 0 is padding: downstream layers that support masking (recurrent layers, poolings) skip it.")
    input_length: PositiveInt | None = Field(
        None, description="Keras 2, first layer only: the sequence length; same as input_shape: [input_length]."
    )

    family = "core"
    input_declaration_keys = ("input_length",)
    input_dtype = "int64"

    def input_bound(self) -> int | None:
        return self.input_dim

    def declared_feature_shape(self) -> tuple[int, ...] | None:
        return None if self.input_length is None else (self.input_length,)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 1:
            self.expect_rank(input_shape, 2)
        return (*input_shape, self.output_dim)

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        return {"embeddings": Weight((self.input_dim, self.output_dim))}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.embedding:KerasEmbedding", self.input_dim, self.output_dim, embeddings_initializer=self.embeddings_initializer, mask_zero=self.mask_zero)

    def produces_mask(self) -> bool:
        return self.mask_zero
