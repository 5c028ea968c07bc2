"""Keras's Rescaling as a torch module: x * scale + offset, integer inputs cast to float32."""

from __future__ import annotations

import torch
from torch import nn


class KerasRescaling(nn.Module):
    """Args: scale, offset (a number, or a list broadcast along the last axis).
    Shape: unchanged; the output is float32 for integer inputs. scale and offset are non-persistent
    buffers: they follow the module to its device but are not weights.
    """

    def __init__(self, scale: float | list[float], offset: float | list[float] = 0.0):
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32), persistent=False)
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float32), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not x.is_floating_point():
            x = x.to(torch.float32)
        return x * self.scale.to(x.dtype) + self.offset.to(x.dtype)

    def extra_repr(self) -> str:
        return f"scale={self.scale.tolist()}, offset={self.offset.tolist()}"
