"""Embedding as a torch module, with Keras's weight name (`embeddings`) and initializer."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.initializers import InitializerName
from modelspec.nn.init import initialize


class KerasEmbedding(nn.Module):
    """Looks indices up in an (input_dim, output_dim) table.

    Args: input_dim (vocabulary size), output_dim, embeddings_initializer (default U(-0.05, 0.05)).
    Shape: (batch, ...) integers (floats are cast) -> (batch, ..., output_dim).
    """

    def __init__(self, input_dim: int, output_dim: int, *, embeddings_initializer: InitializerName = "uniform", mask_zero: bool = False):
        super().__init__()
        self.mask_zero = mask_zero
        self.embeddings = nn.Parameter(torch.empty(input_dim, output_dim))
        self.embeddings_initializer = embeddings_initializer
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize(self.embeddings, self.embeddings_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """With mask_zero, returns (embeddings, mask) where the mask is True at non-zero indices."""
        indices = x.long()
        output = F.embedding(indices, self.embeddings)
        return (output, indices != 0) if self.mask_zero else output

    def extra_repr(self) -> str:
        return f"input_dim={self.embeddings.shape[0]}, output_dim={self.embeddings.shape[1]}"
