"""Dot as a torch module: Keras's batch_dot, with optional L2 normalisation (cosine similarity)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.nn.merge import tensor_list

#: Keras's backend epsilon: the smallest norm normalize divides by.
EPSILON = 1e-7


class DotModule(nn.Module):
    """Batchwise dot product along one axis of each input.

    Args: axes (non-negative, never 0, one per input), normalize (L2-normalise along the axes first).
    Shape: x (batch, *xs), y (batch, *ys) -> (batch, *xs without axes[0], *ys without axes[1]);
    (batch,) becomes (batch, 1).
    Examples: DotModule((1, 1))(x, y) with x, y of shape (2, 8) gives (x * y).sum(1, keepdim=True).
    """

    def __init__(self, axes: tuple[int, int], *, normalize: bool = False):
        super().__init__()
        self.axes = tuple(axes)
        self.normalize = normalize

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        x, y = tensor_list(inputs)
        a, b = self.axes
        if self.normalize:
            x, y = F.normalize(x, dim=a, eps=EPSILON), F.normalize(y, dim=b, eps=EPSILON)
        x, y = x.movedim(a, -1), y.movedim(b, 1)  # (batch, *x_rest, k) and (batch, k, *y_rest)
        batch, size = x.shape[0], x.shape[-1]
        x_rest, y_rest = x.shape[1:-1], y.shape[2:]
        out = torch.bmm(x.reshape(batch, -1, size), y.reshape(batch, size, -1))
        out = out.reshape(batch, *x_rest, *y_rest)
        return out.unsqueeze(-1) if out.dim() == 1 else out

    def extra_repr(self) -> str:
        return f"axes={self.axes}, normalize={self.normalize}"
