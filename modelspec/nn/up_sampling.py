"""UpSampling1D/2D/3D as a torch module on channels_last tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class UpSampling(nn.Module):
    """Enlarges each spatial axis (axes 1..n, between batch and channels) by an integer factor.

    Args: factors, one per spatial axis; interpolation "nearest" (repeat each step, as Keras's ops.repeat)
    or "bilinear" (2D only: half-pixel centres, as Keras's ops.image.resize and align_corners=False).
    Shape: (batch, s1, ..., sn, channels) -> (batch, s1 * f1, ..., sn * fn, channels).
    Examples: UpSampling((2,))(x) turns steps a, b into a, a, b, b.
    """

    def __init__(self, factors: tuple[int, ...], *, interpolation: str = "nearest"):
        super().__init__()
        if interpolation not in ("nearest", "bilinear") or (interpolation == "bilinear" and len(factors) != 2):
            raise ValueError(f"interpolation must be 'nearest', or 'bilinear' with 2 factors; received {interpolation!r} with factors {factors}")
        self.factors = tuple(factors)
        self.interpolation = interpolation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.interpolation == "bilinear":
            size = (x.shape[1] * self.factors[0], x.shape[2] * self.factors[1])
            y = F.interpolate(x.permute(0, 3, 1, 2), size=size, mode="bilinear", align_corners=False)
            return y.permute(0, 2, 3, 1)
        for axis, factor in enumerate(self.factors, start=1):
            if factor > 1:
                x = x.repeat_interleave(factor, dim=axis)
        return x

    def extra_repr(self) -> str:
        return f"size={self.factors}, interpolation={self.interpolation}"
