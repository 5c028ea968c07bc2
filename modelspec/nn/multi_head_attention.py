"""MultiHeadAttention as a torch module: Keras's EinsumDense projections and scaled dot-product attention.

    q = query @ W_q + b_q  (B, *T, heads, key_dim);  k, v likewise from key and value
    scores = softmax(q . k / sqrt(key_dim) over the attention axes, masked)   (B, *free, heads, *T, *S)
    output = (scores @ v) @ W_o + b_o  (B, *T, *output_shape)

Masks follow Keras's Softmax: disallowed positions get -1e9 added to their score (so a fully masked
row attends uniformly). Weights keep Keras's shapes (see modelspec.layers.multi_head_attention) and
Keras's initialisation: `initialize_keras_layout` gives each kernel the fans Keras computes for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.initializers import InitializerName
from modelspec.nn.init import initialize


def initialize_keras_layout(tensor: torch.Tensor, name: InitializerName) -> torch.Tensor:
    """Fill a weight kept in Keras's layout as Keras would: the reversed shape has the same fans in torch's layout."""
    reversed_dims = tuple(range(tensor.dim() - 1, -1, -1))
    with torch.no_grad():
        return tensor.copy_(initialize(torch.empty(tensor.shape[::-1]), name).permute(reversed_dims))


def large_negative(dtype: torch.dtype) -> float:
    """Keras's Softmax mask value."""
    return -3e4 if dtype == torch.float16 else -1e9


class EinsumProjection(nn.Module):
    """Keras's EinsumDense as MultiHeadAttention uses it: contract the last `len(in_dims)` axes with the kernel.

    Shape: (..., *in_dims) -> (..., *out_dims). Weights: kernel (*in_dims, *out_dims), bias (*out_dims).
    """

    def __init__(self, in_dims: tuple[int, ...], out_dims: tuple[int, ...], *, use_bias: bool,
                 kernel_initializer: InitializerName, bias_initializer: InitializerName):
        super().__init__()
        self.bound = len(in_dims)
        self.kernel = nn.Parameter(torch.empty(*in_dims, *out_dims))
        self.bias = nn.Parameter(torch.empty(*out_dims)) if use_bias else None
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.reset_parameters()

    def reset_parameters(self) -> None:
        initialize_keras_layout(self.kernel, self.kernel_initializer)
        if self.bias is not None:
            initialize_keras_layout(self.bias, self.bias_initializer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.kernel
        if torch.is_autocast_enabled(x.device.type):  # tensordot is on no autocast list: cast as autocast casts a matmul
            dtype = torch.get_autocast_dtype(x.device.type)
            x, kernel = x.to(dtype), kernel.to(dtype)
        y = torch.tensordot(x, kernel, dims=self.bound)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"kernel={tuple(self.kernel.shape)}, use_bias={self.bias is not None}"


class KerasMultiHeadAttention(nn.Module):
    """Keras's MultiHeadAttention.

    Args: query_features, value_features, key_features, num_heads, key_dim, value_dim, output_shape,
    attention_axes (non-negative input axes), dropout, use_bias, kernel_initializer, bias_initializer,
    use_causal_mask, return_attention_scores.
    Shape: forward(query, value, key=None, attention_mask=None, *, mask=None): query (B, *T, dq),
    value (B, *S, dv), key (B, *S, dk); attention_mask bool-like (B, *free, *T_attn, *S_attn);
    mask: Keras's input masks [query_mask, value_mask, key_mask] ((B, T), (B, S), rank-3 inputs),
    any of them None. Returns (B, *T, *output_shape), and the attention probabilities
    (B, *free, heads, *T_attn, *S_attn) with return_attention_scores.
    """

    def __init__(
        self,
        query_features: int,
        value_features: int,
        key_features: int,
        *,
        num_heads: int,
        key_dim: int,
        value_dim: int,
        output_shape: tuple[int, ...],
        attention_axes: tuple[int, ...],
        dropout: float = 0.0,
        use_bias: bool = True,
        kernel_initializer: InitializerName = "glorot_uniform",
        bias_initializer: InitializerName = "zeros",
        use_causal_mask: bool = False,
        return_attention_scores: bool = False,
    ):
        super().__init__()
        init = {"use_bias": use_bias, "kernel_initializer": kernel_initializer, "bias_initializer": bias_initializer}
        self.query = EinsumProjection((query_features,), (num_heads, key_dim), **init)
        self.key = EinsumProjection((key_features,), (num_heads, key_dim), **init)
        self.value = EinsumProjection((value_features,), (num_heads, value_dim), **init)
        self.attention_output = EinsumProjection((num_heads, value_dim), output_shape, **init)
        self.num_heads, self.key_dim, self.value_dim = num_heads, key_dim, value_dim
        self.attention_axes = attention_axes
        self.dropout = dropout
        self.use_causal_mask = use_causal_mask
        self.return_attention_scores = return_attention_scores

    def forward(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        key: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        *,
        mask: Sequence[torch.Tensor | None] | None = None,
    ):
        key = value if key is None else key
        rank = query.dim()
        axes = self.attention_axes
        free = [i for i in range(1, rank - 1) if i not in axes]
        # projected: (B, *dims, heads, channels) -> (B, *free, heads, *attention dims, channels)
        order = [0, *free, rank - 1, *axes, rank]
        q = self.query(query).permute(order) * (1.0 / math.sqrt(self.key_dim))
        k = self.key(key).permute(order)
        v = self.value(value).permute(order)
        lead = q.shape[: len(free) + 2]
        q_attn, k_attn = q.shape[len(free) + 2 : -1], k.shape[len(free) + 2 : -1]
        q = q.reshape(*lead, -1, q.shape[-1])
        k = k.reshape(*k.shape[: len(free) + 2], -1, k.shape[-1])
        v = v.reshape(*v.shape[: len(free) + 2], -1, v.shape[-1])

        scores = q @ k.transpose(-1, -2)  # (B, *free, heads, T, S)
        allowed = self.allowed(attention_mask, mask, query, scores, len(free), q_attn, k_attn)
        if allowed is not None:
            scores = scores + (~allowed).to(scores.dtype) * large_negative(scores.dtype)
        probabilities = torch.softmax(scores, dim=-1)
        context = F.dropout(probabilities, self.dropout, self.training) @ v  # (B, *free, heads, T, value_dim)

        context = context.reshape(*lead, *q_attn, self.value_dim)
        back = [0] * (rank + 1)
        for position, axis in enumerate(order):
            back[axis] = position
        output = self.attention_output(context.permute(back))
        if not self.return_attention_scores:
            return output
        return output, probabilities.reshape(*lead, *q_attn, *k_attn)

    def allowed(self, attention_mask, masks, query, scores, free: int, q_attn, k_attn) -> torch.Tensor | None:
        """Where a query position may attend to a key position, broadcastable to the scores; None when anywhere."""
        allowed = None
        if attention_mask is not None:
            # (B, *free, *T_attn, *S_attn) -> with a heads axis, broadcast, then attention axes flattened
            expanded = attention_mask.to(torch.bool).unsqueeze(free + 1)
            target = (*scores.shape[: free + 1], 1, *q_attn, *k_attn)
            allowed = expanded.expand(target).reshape(*target[: free + 2], scores.shape[-2], scores.shape[-1])
        query_mask, value_mask, key_mask = (list(masks or []) + [None] * 3)[:3]
        for part in (
            None if query_mask is None else query_mask.to(torch.bool)[:, None, :, None],
            None if value_mask is None else value_mask.to(torch.bool)[:, None, None, :],
            None if key_mask is None or key_mask is value_mask else key_mask.to(torch.bool)[:, None, None, :],
        ):
            if part is not None:
                if query.dim() != 3:
                    raise ValueError("input masks of MultiHeadAttention need rank-3 inputs (batch, steps, features)")
                allowed = part if allowed is None else allowed & part
        if self.use_causal_mask:
            causal = torch.ones(scores.shape[-2], scores.shape[-1], dtype=torch.bool, device=scores.device).tril()
            allowed = causal if allowed is None else allowed & causal
        return allowed

    def extra_repr(self) -> str:
        return (
            f"num_heads={self.num_heads}, key_dim={self.key_dim}, value_dim={self.value_dim}, "
            f"attention_axes={self.attention_axes}, dropout={self.dropout}, use_causal_mask={self.use_causal_mask}"
        )
