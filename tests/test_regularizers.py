"""Regularizers add Keras's penalties to the loss; constraints project weights after each step."""

from __future__ import annotations

import pytest
import torch

from modelspec.training.engine import Engine
from modelspec.training.run import prepare
from tests.helpers import write

SPEC = """
name: regularized
inputs: {x: {shape: [3]}}
layers:
  - {name: hidden, type: Dense, units: 4, inputs: x, kernel_regularizer: {type: l1_l2, l1: 0.1, l2: 0.2},
     bias_initializer: ones, bias_regularizer: l2, activity_regularizer: {type: l1, l1: 0.5}, activation: relu}
  - {name: wrapped_out, type: Dense, units: 2, kernel_constraint: {type: max_norm, max_value: 0.1}, bias_constraint: non_neg}
outputs: wrapped_out
compile: {optimizer: {type: sgd, learning_rate: 0.5}, loss: mse}
"""


def engine(tmp_path) -> Engine:
    prepared = prepare(write(tmp_path, SPEC))
    return Engine(prepared.graph, prepared.plan, device="cpu", seed=0)


def test_loss_includes_weight_and_activity_penalties(tmp_path):
    e = engine(tmp_path)
    x, y = torch.rand(5, 3), torch.rand(5, 2)
    e.test_step([x], {"wrapped_out": y}, None, 5)
    kernel, bias = e.module.hidden.kernel, e.module.hidden.bias
    with torch.no_grad():
        hidden = torch.relu(x @ kernel.T + bias)
        prediction = hidden @ e.module.wrapped_out.kernel.T + e.module.wrapped_out.bias
        mse = ((prediction - y) ** 2).mean()
        weights = 0.1 * kernel.abs().sum() + 0.2 * kernel.square().sum() + 0.01 * bias.square().sum()  # l2 by name: 0.01
        activity = 0.5 * hidden.abs().sum()
    assert e.logs()["loss"] == pytest.approx(float(mse + weights + activity), rel=1e-5)


def test_constraints_hold_after_each_step(tmp_path):
    e = engine(tmp_path)
    for _ in range(3):
        e.train_step([torch.rand(8, 3)], {"wrapped_out": torch.rand(8, 2) * 10}, None, 8)
        kernel = e.module.wrapped_out.kernel
        assert (kernel.norm(dim=1) <= 0.1 + 1e-5).all()
        assert (e.module.wrapped_out.bias >= 0).all()


def test_regularizer_names_and_errors(tmp_path):
    from tests.helpers import problems

    found = problems(tmp_path, "name: m\nsequential:\n  - {type: Dense, units: 2, input_dim: 2, kernel_regularizer: l3}\n")
    assert any("kernel_regularizer" in p.message for p in found)
