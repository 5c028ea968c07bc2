"""Keras's elementwise merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum) as one torch module."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn


def tensor_list(inputs: tuple) -> list[torch.Tensor]:
    """Accept module(a, b, ...) as well as module([a, b, ...])."""
    return list(inputs[0]) if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)) else list(inputs)


def aligned(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Keras's merge broadcasting: a lower-rank tensor gets size-1 axes inserted after the batch axis."""
    rank = max(t.dim() for t in tensors)
    result = []
    for t in tensors:
        while t.dim() < rank:
            t = t.unsqueeze(1)
        result.append(t)
    return result


def _average(tensors: list[torch.Tensor]) -> torch.Tensor:
    return functools.reduce(torch.add, tensors) / len(tensors)


#: Operation name -> function of the aligned tensors (left to right, as Keras folds them).
OPERATIONS: dict[str, Callable[[list[torch.Tensor]], torch.Tensor]] = {
    "add": lambda ts: functools.reduce(torch.add, ts),
    "subtract": lambda ts: functools.reduce(torch.sub, ts),
    "multiply": lambda ts: functools.reduce(torch.mul, ts),
    "average": _average,
    "maximum": lambda ts: functools.reduce(torch.maximum, ts),
    "minimum": lambda ts: functools.reduce(torch.minimum, ts),
}


class ElementwiseMergeModule(nn.Module):
    """Applies one elementwise operation to a list of tensors.

    Args: operation (add, subtract, multiply, average, maximum, minimum); subtract takes exactly 2 tensors.
    Shape: tensors of broadcast-compatible shapes -> their broadcast shape.
    Examples: ElementwiseMergeModule("average")(a, b) == (a + b) / 2; module([a, b]) works too.
    """

    def __init__(self, operation: str):
        super().__init__()
        if operation not in OPERATIONS:
            raise ValueError(f"unknown merge operation {operation!r}: expected one of {', '.join(OPERATIONS)}")
        self.operation = operation
        self._function = OPERATIONS[operation]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self._function(aligned(tensor_list(inputs)))

    def extra_repr(self) -> str:
        return f"operation={self.operation}"
