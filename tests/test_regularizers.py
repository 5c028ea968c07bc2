"""Regularizers add Keras's penalties to the loss; constraints project weights after each step."""

from __future__ import annotations

import pytest
import torch

from modelspec.checked import check_spec
from modelspec.training.engine import Engine
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
    prepared = check_spec(write(tmp_path, SPEC))
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


# ----- the registries -----------------------------------------------------------------------------
def test_every_registered_kind_names_its_torch_function():
    from modelspec.regularizers import CONSTRAINTS, REGULARIZERS
    from modelspec.regularizers.runtime import penalty_of, projection_of

    assert set(REGULARIZERS) == {"l1", "l2", "l1_l2"} and set(CONSTRAINTS) == {"max_norm", "non_neg", "unit_norm"}
    for name, cls in REGULARIZERS.items():
        assert callable(penalty_of(cls(type=name)))
    for name, cls in CONSTRAINTS.items():
        assert callable(projection_of(cls(type=name)))


def test_penalties_and_projections_follow_keras():
    from modelspec.regularizers import L1, L1L2, L2, MaxNorm, NonNeg, UnitNorm
    from modelspec.regularizers.runtime import penalty_of, projection_of

    w = torch.tensor([[3.0, -4.0], [0.3, 0.4]])
    for config, expected in ((L1(type="l1", l1=0.5), 0.5 * 7.7), (L2(type="l2"), 0.01 * 25.25),
                             (L1L2(type="l1_l2", l1=0.1, l2=0.2), 0.1 * 7.7 + 0.2 * 25.25)):
        assert float(penalty_of(config)(config, w)) == pytest.approx(expected)
    for config, expected in ((MaxNorm(type="max_norm", max_value=1.0), [[0.6, -0.8], [0.3, 0.4]]),
                             (UnitNorm(type="unit_norm"), [[0.6, -0.8], [0.6, 0.8]]), (NonNeg(type="non_neg"), [[3.0, 0.0], [0.3, 0.4]])):
        projected = w.clone()
        projection_of(config)(config, projected)
        assert torch.allclose(projected, torch.tensor(expected), atol=1e-6)


def test_bare_names_take_their_registered_defaults():
    from pydantic import TypeAdapter

    from modelspec.regularizers import L1L2, L2, Constraint, MaxNorm, Regularizer

    assert TypeAdapter(Regularizer).validate_python("l1_l2") == L1L2(type="l1_l2", l1=0.01, l2=0.01)
    assert TypeAdapter(Regularizer).validate_python({"type": "l1_l2"}) == L1L2(type="l1_l2", l1=0.0, l2=0.0)
    assert TypeAdapter(Regularizer).validate_python("l2") == L2(type="l2", l2=0.01)
    assert TypeAdapter(Constraint).validate_python("max_norm") == MaxNorm(type="max_norm", max_value=2.0)


def test_configs_import_without_torch():
    import subprocess
    import sys

    code = "import sys, modelspec.regularizers; assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], check=True)
