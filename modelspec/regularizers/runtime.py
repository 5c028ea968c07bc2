"""Regularization losses and weight constraints in training (configs: modelspec.regularizers.config).

Weight penalties are summed over the regularized parameters each step; activity penalties are
collected by forward hooks on the layers that ask for them (after the layer's activation, as
Keras computes them on the layer's output); constraints project weights after each update.

Each config's registration names its function here: a penalty `(config, tensor) -> Tensor`, or a
projection `(config, parameter) -> None` that changes the parameter in place (under no_grad).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor, nn

from modelspec.graph import Graph
from modelspec.implementation import resolve
from modelspec.layers import LayerConfig
from modelspec.nn.activations import get_activation
from modelspec.regularizers.config import L1, L1L2, L2, ConstraintConfig, MaxNorm, Regularized, RegularizerConfig, UnitNorm

Penalty = Callable[[Any, Tensor], Tensor]
Projection = Callable[[Any, Tensor], None]


# ----- the registered implementations --------------------------------------------------------------
def _l1_l2(l1: float, l2: float, tensor: Tensor) -> Tensor:
    """Keras: l1 * sum(|x|) + l2 * sum(x^2)."""
    total = tensor.new_zeros(())
    if l1:
        total = total + l1 * tensor.abs().sum()
    if l2:
        total = total + l2 * tensor.square().sum()
    return total


def l1_penalty(regularizer: L1, tensor: Tensor) -> Tensor:
    return _l1_l2(regularizer.l1, 0.0, tensor)


def l2_penalty(regularizer: L2, tensor: Tensor) -> Tensor:
    return _l1_l2(0.0, regularizer.l2, tensor)


def l1_l2_penalty(regularizer: L1L2, tensor: Tensor) -> Tensor:
    return _l1_l2(regularizer.l1, regularizer.l2, tensor)


def non_neg(constraint: ConstraintConfig, parameter: Tensor) -> None:
    """w = max(w, 0)."""
    parameter.clamp_(min=0.0)


def _unit_norms(parameter: Tensor) -> Tensor:
    """The L2 norm of each unit's incoming weights, on torch layouts: units along dim 0, inputs along the rest."""
    dims = tuple(range(1, parameter.dim())) or (0,)
    return parameter.square().sum(dim=dims, keepdim=True).sqrt()


def max_norm(constraint: MaxNorm, parameter: Tensor) -> None:
    """Each unit's weights rescaled to norm <= max_value."""
    norms = _unit_norms(parameter)
    parameter.mul_(norms.clamp(max=constraint.max_value) / (norms + 1e-7))


def unit_norm(constraint: UnitNorm, parameter: Tensor) -> None:
    """Each unit's weights rescaled to norm 1."""
    parameter.div_(_unit_norms(parameter) + 1e-7)


def penalty_of(regularizer: RegularizerConfig) -> Penalty:
    """The penalty function a regularizer's registration names."""
    return resolve(type(regularizer).implementation)


def projection_of(constraint: ConstraintConfig) -> Projection:
    """The projection a constraint's registration names."""
    return resolve(type(constraint).implementation)


# ----- a compiled graph's terms -------------------------------------------------------------------


def _configs(graph: Graph, prefix: str = "") -> Iterator[tuple[str, LayerConfig]]:
    """(module path, config) of every layer, nested models and wrapped layers included."""
    for layer in graph.layers.values():
        yield from _walk(layer.config, f"{prefix}{layer.name}")
        for path, model in layer.models.items():
            yield from _configs(model, f"{prefix}{layer.name}.{path}." if path else f"{prefix}{layer.name}.")


def _walk(config: LayerConfig, path: str) -> Iterator[tuple[str, LayerConfig]]:
    yield path, config
    for name, inner in config.named_nested_layers().items():
        yield from _walk(inner, f"{path}.{name}")


class Regularization:
    """The regularization terms of a compiled graph: call `loss()` after a forward pass."""

    def __init__(self, graph: Graph, module: nn.Module):
        self.weight_terms: list[tuple[Tensor, RegularizerConfig, Penalty]] = []
        self.constraints: list[tuple[Tensor, ConstraintConfig, Projection]] = []
        self.activity: list[Tensor] = []
        for path, config in _configs(graph):
            if isinstance(config, Regularized):
                submodule = module.get_submodule(path)
                present = dict(submodule.named_parameters())  # a bias_regularizer without a bias does nothing, as in Keras
                self.weight_terms += [(present[name], reg, penalty_of(reg)) for name, reg in config.weight_penalties() if name in present]
                self.constraints += [(present[name], con, projection_of(con)) for name, con in config.weight_constraints() if name in present]
            regularizer = config.activity_penalty()
            if regularizer is not None:
                activation = get_activation(config.output_activation() or "linear")
                module.get_submodule(path).register_forward_hook(self._hook(regularizer, activation))

    def _hook(self, regularizer: RegularizerConfig, activation):
        function = penalty_of(regularizer)

        def collect(_module: nn.Module, _inputs: Any, output: Any) -> None:
            first = output[0] if isinstance(output, (tuple, list)) else output
            self.activity.append(function(regularizer, activation(first.float())))  # float32 under bf16 autocast too

        return collect

    def loss(self) -> Tensor | None:
        """Sum of the weight penalties and of the activity penalties collected since the last call."""
        terms = [function(reg, parameter) for parameter, reg, function in self.weight_terms] + self.activity
        self.activity = []
        return torch.stack(terms).sum() if terms else None

    def clear(self) -> None:
        self.activity = []

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Keras's constraints, each projecting its parameter in place."""
        for parameter, constraint, project in self.constraints:
            project(constraint, parameter)
