"""Keras pooling as torch modules on channels_last tensors.

`same` pads like TensorFlow (modelspec.shapes.same_padding, the odd unit after):
max pooling pads with -inf, so padding never wins; average pooling divides each window's sum by
the number of real (unpadded) positions in it, as Keras does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from modelspec.nn.conv import channels_first, channels_last, pad_axes, window_pads

MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


class KerasPooling(nn.Module):
    """MaxPooling1D/2D/3D and AveragePooling1D/2D/3D.

    Args: mode ("max" or "average"), pool_size and strides (one int per spatial axis), padding ("valid" or "same").
    Shape: (batch, *spatial, channels) -> (batch, *spatial', channels).
    """

    def __init__(self, mode: str, pool_size: tuple[int, ...], strides: tuple[int, ...], padding: str = "valid"):
        super().__init__()
        if mode not in ("max", "average"):
            raise ValueError(f"unknown pooling mode {mode!r}: expected 'max' or 'average'")
        self.mode, self.pool_size, self.strides, self.padding = mode, tuple(pool_size), tuple(strides), padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = channels_first(x)
        rank = len(self.pool_size)
        pads = window_pads(x, self.pool_size, self.strides, (1,) * rank, self.padding)
        if self.mode == "max":
            return channels_last(MAX_POOL[rank](pad_axes(x, pads, float("-inf")), self.pool_size, self.strides))
        pooled = AVG_POOL[rank](pad_axes(x, pads), self.pool_size, self.strides)
        if any(before or after for before, after in pads):
            # fraction of each window on real positions: the mean over them is sum / count
            real = AVG_POOL[rank](pad_axes(x.new_ones((1, 1, *x.shape[2:])), pads), self.pool_size, self.strides)
            pooled = pooled / real
        return channels_last(pooled)

    def extra_repr(self) -> str:
        return f"mode={self.mode}, pool_size={self.pool_size}, strides={self.strides}, padding={self.padding}"


class KerasGlobalPooling(nn.Module):
    """GlobalMaxPooling1D/2D/3D and GlobalAveragePooling1D/2D/3D.

    Args: mode ("max" or "average"), rank (spatial axes), keepdims.
    Shape: (batch, *spatial, channels) -> (batch, channels), or (batch, 1, ..., channels) with keepdims.
    forward takes an optional mask (bool, (batch, *spatial), True = keep), Keras's sequence mask for
    the 1D layers: the mean is over the kept steps only (Keras: sum / count, NaN when none is kept),
    the max over the kept steps (the dtype's lowest value when none is kept).
    """

    def __init__(self, mode: str, rank: int, keepdims: bool = False):
        super().__init__()
        if mode not in ("max", "average"):
            raise ValueError(f"unknown pooling mode {mode!r}: expected 'max' or 'average'")
        self.mode, self.rank, self.keepdims = mode, rank, keepdims

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        dims = tuple(range(1, self.rank + 1))
        if mask is None:
            return x.mean(dims, keepdim=self.keepdims) if self.mode == "average" else x.amax(dims, keepdim=self.keepdims)
        keep = mask.to(torch.bool).unsqueeze(-1)
        if self.mode == "average":
            total = torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device)).sum(dims, keepdim=self.keepdims)
            return total / keep.to(x.dtype).sum(dims, keepdim=self.keepdims)
        lowest = torch.full((), torch.finfo(x.dtype).min, dtype=x.dtype, device=x.device)
        return torch.where(keep, x, lowest).amax(dims, keepdim=self.keepdims)

    def extra_repr(self) -> str:
        return f"mode={self.mode}, rank={self.rank}, keepdims={self.keepdims}"
