"""What every export is checked with: sample batches of a graph's inputs, and the largest difference.

Each writer (modelspec.interop.export for .pt2 and .onnx, modelspec.interop.pysource for .py)
runs its file and modelspec's module on the same sample batch and reports `Exported.difference`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from modelspec.graph import Graph

#: Sample batch size for tracing a dynamic batch (torch.export specialises sizes 0 and 1).
SAMPLE_BATCH = 2


@dataclass
class Exported:
    """What `export` wrote: the path, its format, and the largest difference from modelspec's outputs."""

    path: Path
    format: str
    difference: float | None
    note: str = ""


def input_bounds(graph: Graph) -> dict[str, int]:
    """For integer inputs: the smallest bound any consuming layer sets (Embedding: input_dim)."""
    bounds: dict[str, int] = {}
    for node in graph.order:
        bound = node.layer.config.input_bound()
        for ref in node.inputs:
            if ref.source in graph.inputs and bound is not None:
                bounds[ref.source] = min(bound, bounds.get(ref.source, bound))
    return bounds


def sample_inputs(graph: Graph, batch: int = SAMPLE_BATCH, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """A batch of random inputs of the graph's shapes and dtypes (the batch size where the spec leaves it open)."""
    generator = torch.Generator().manual_seed(seed)
    bounds = input_bounds(graph)
    tensors = []
    for name, spec in graph.inputs.items():
        shape = [batch if spec.shape[0] is None else spec.shape[0], *(4 if d is None else d for d in spec.shape[1:])]
        dtype = getattr(torch, spec.dtype)
        if dtype == torch.bool:
            tensors.append(torch.rand(shape, generator=generator) < 0.5)
        elif not dtype.is_floating_point:
            tensors.append(torch.randint(0, bounds.get(name, 2), shape, generator=generator, dtype=dtype))
        else:
            tensors.append(torch.randn(shape, generator=generator, dtype=dtype))
    return tuple(tensors)


def outputs_tuple(result: object) -> tuple[torch.Tensor, ...]:
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def max_difference(expected: tuple[torch.Tensor, ...], received: tuple[object, ...]) -> float:
    worst = 0.0
    for want, got in zip(expected, received, strict=True):
        got = torch.as_tensor(got)
        if tuple(got.shape) != tuple(want.shape):
            return float("inf")
        worst = max(worst, float((got.to(want.dtype) - want).abs().max()) if want.numel() else 0.0)
    return worst
