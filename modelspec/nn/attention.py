"""Attention and AdditiveAttention as torch modules (Keras's keras/src/layers/attention/attention.py).

Both score each (query step, key step) pair, then share Keras's `_apply_scores`: disallowed pairs
(value mask, causal mask) get 1e9 subtracted, a softmax over the value steps, dropout on the
distribution while training, a weighted sum of the values, and masked query steps output zeros.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.nn.init import initialize


class ScoreAttention(nn.Module):
    """Base: forward(query, value, key=None, *, mask=None) -> (B, Tq, value dim) [, distribution (B, Tq, Tv)].

    mask: Keras's [query_mask (B, Tq), value_mask (B, Tv)], either None.
    """

    def __init__(self, *, dropout: float, use_causal_mask: bool, return_attention_scores: bool):
        super().__init__()
        self.dropout = dropout
        self.use_causal_mask = use_causal_mask
        self.return_attention_scores = return_attention_scores

    def scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, query: torch.Tensor, value: torch.Tensor, key: torch.Tensor | None = None, *,
                mask: Sequence[torch.Tensor | None] | None = None):
        key = value if key is None else key
        query_mask, value_mask = (list(mask or []) + [None, None])[:2]
        scores = self.scores(query, key)  # (B, Tq, Tv)
        allowed = None if value_mask is None else value_mask.to(torch.bool)[:, None, :]
        if self.use_causal_mask:
            causal = torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device).tril()
            allowed = causal if allowed is None else allowed & causal
        if allowed is not None:
            scores = scores - (65504.0 if scores.dtype == torch.float16 else 1.0e9) * (~allowed).to(scores.dtype)
        distribution = torch.softmax(scores, dim=-1)
        result = F.dropout(distribution, self.dropout, self.training) @ value
        if query_mask is not None:
            result = result * query_mask.to(result.dtype)[..., None]
        return (result, distribution) if self.return_attention_scores else result

    def extra_repr(self) -> str:
        return f"dropout={self.dropout}, use_causal_mask={self.use_causal_mask}"


class LuongAttention(ScoreAttention):
    """Keras's Attention. Weights: scale () with use_scale, concat_score_weight () with score_mode concat (both ones)."""

    def __init__(self, *, use_scale: bool = False, score_mode: str = "dot", **options):
        super().__init__(**options)
        self.score_mode = score_mode
        self.scale = nn.Parameter(torch.ones(())) if use_scale else None
        self.concat_score_weight = nn.Parameter(torch.ones(())) if score_mode == "concat" else None

    def scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        if self.score_mode == "dot":
            scores = query @ key.transpose(-1, -2)
            return scores if self.scale is None else scores * self.scale
        pairs = query[:, :, None, :] + key[:, None, :, :]
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * torch.tanh(pairs).sum(-1)


class BahdanauAttention(ScoreAttention):
    """Keras's AdditiveAttention. Weights: scale (dim,) with use_scale (glorot_uniform); pass dim=None without."""

    def __init__(self, dim: int | None, **options):
        super().__init__(**options)
        self.scale = nn.Parameter(initialize(torch.empty(dim), "glorot_uniform")) if dim is not None else None

    def scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        terms = torch.tanh(query[:, :, None, :] + key[:, None, :, :])
        return (terms if self.scale is None else self.scale * terms).sum(-1)
