"""GlobalAveragePooling2D as a torch module (channels_last)."""

from __future__ import annotations

import torch
from torch import nn


class GlobalAveragePooling2DModule(nn.Module):
    """Mean over height and width.

    Args: keepdims.
    Shape: (batch, height, width, channels) -> (batch, channels), or (batch, 1, 1, channels).
    """

    def __init__(self, keepdims: bool = False):
        super().__init__()
        self.keepdims = keepdims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(1, 2), keepdim=self.keepdims)

    def extra_repr(self) -> str:
        return f"keepdims={self.keepdims}"
