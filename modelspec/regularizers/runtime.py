"""Regularization losses and weight constraints in training (configs: modelspec.regularizers).

Weight penalties are summed over the regularized parameters each step; activity penalties are
collected by forward hooks on the layers that ask for them (after the layer's activation, as
Keras computes them on the layer's output); constraints project weights after each update.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from modelspec.graph import Graph
from modelspec.layers import LayerConfig
from modelspec.layers.model import Model
from modelspec.nn.activations import get_activation
from modelspec.regularizers import L1, L1L2, L2, MaxNorm, NonNeg, Regularized, UnitNorm


def penalty(regularizer: Any, tensor: Tensor) -> Tensor:
    """Keras: l1 * sum(|x|) + l2 * sum(x^2)."""
    l1 = regularizer.l1 if isinstance(regularizer, (L1, L1L2)) else 0.0
    l2 = regularizer.l2 if isinstance(regularizer, (L2, L1L2)) else 0.0
    total = tensor.new_zeros(())
    if l1:
        total = total + l1 * tensor.abs().sum()
    if l2:
        total = total + l2 * tensor.square().sum()
    return total


def _configs(graph: Graph, prefix: str = "") -> Iterator[tuple[str, LayerConfig]]:
    """(module path, config) of every layer, nested models and wrapped layers included."""
    for layer in graph.layers.values():
        yield from _walk(layer.config, f"{prefix}{layer.name}")


def _walk(config: LayerConfig, path: str) -> Iterator[tuple[str, LayerConfig]]:
    yield path, config
    if isinstance(config, Model) and config._graph is not None:
        yield from _configs(config.graph, f"{path}.")
    for name, inner in config.named_nested_layers().items():
        yield from _walk(inner, f"{path}.{name}")


class Regularization:
    """The regularization terms of a compiled graph: call `loss()` after a forward pass."""

    def __init__(self, graph: Graph, module: nn.Module):
        self.weight_terms: list[tuple[Tensor, Any]] = []
        self.constraints: list[tuple[Tensor, Any]] = []
        self.activity: list[Tensor] = []
        for path, config in _configs(graph):
            if isinstance(config, Regularized):
                submodule = module.get_submodule(path)
                present = dict(submodule.named_parameters())  # a bias_regularizer without a bias does nothing, as in Keras
                self.weight_terms += [(present[name], reg) for name, reg in config.weight_penalties() if name in present]
                self.constraints += [(present[name], con) for name, con in config.weight_constraints() if name in present]
            regularizer = config.activity_penalty()
            if regularizer is not None:
                activation = get_activation(config.output_activation() or "linear")
                module.get_submodule(path).register_forward_hook(self._hook(regularizer, activation))

    def _hook(self, regularizer: Any, activation):
        def collect(_module: nn.Module, _inputs: Any, output: Any) -> None:
            first = output[0] if isinstance(output, (tuple, list)) else output
            self.activity.append(penalty(regularizer, activation(first.float())))  # float32 under bf16 autocast too

        return collect

    def loss(self) -> Tensor | None:
        """Sum of the weight penalties and of the activity penalties collected since the last call."""
        terms = [penalty(reg, parameter) for parameter, reg in self.weight_terms] + self.activity
        self.activity = []
        return torch.stack(terms).sum() if terms else None

    def clear(self) -> None:
        self.activity = []

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Keras's constraints, on torch layouts: a kernel's units are along dim 0, its inputs along the rest."""
        for parameter, constraint in self.constraints:
            if isinstance(constraint, NonNeg):
                parameter.clamp_(min=0.0)
                continue
            dims = tuple(range(1, parameter.dim())) or (0,)
            norms = parameter.square().sum(dim=dims, keepdim=True).sqrt()
            if isinstance(constraint, MaxNorm):
                parameter.mul_(norms.clamp(max=constraint.max_value) / (norms + 1e-7))
            elif isinstance(constraint, UnitNorm):
                parameter.div_(norms + 1e-7)
