"""fit.jit_compile: true (torch.compile, Keras's name) trains to the same numbers as eager, recurrent layers included.

jit_compile compiles the optimizer's update, and the model on CUDA (`compile_model` forces it here).
Inductor cannot lower torch's fused recurrent kernels on the CPU, so they run eagerly between
compiled parts (`compile_module`); the compiled-model test would fail with "expected Tensor() for
op mkldnn_rnn_layer" otherwise.
"""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torch._dynamo.utils import counters

from modelspec.checked import check_spec
from modelspec.optimizers import optimizer_config
from modelspec.optimizers.runtime import build_optimizer
from modelspec.training.engine import Engine
from modelspec.training.run import TrainingRun
from tests.helpers import write

SPEC = """
name: jit
sequential:
  - {type: LSTM, units: 4, return_sequences: true, input_shape: [3, 2]}
  - {type: LSTM, units: 4}
  - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: sgd, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 8, shuffle: false}
data:
  train: {synthetic: {samples: 32}}
"""


@pytest.mark.parametrize("compile_model", [False, True], ids=["optimizer", "model-and-optimizer"])
def test_jit_compile_trains_a_stacked_lstm_like_eager(tmp_path, monkeypatch, compile_model):
    monkeypatch.setattr(Engine, "__init__", functools.partialmethod(Engine.__init__, compile_model=compile_model))
    spec = write(tmp_path, SPEC)
    histories = {}
    for jit in (False, True):
        prepared = check_spec(spec, [f"fit.jit_compile={str(jit).lower()}"])
        result = TrainingRun(prepared, tmp_path / f"run-{jit}", seed=0, device="cpu").fit()
        assert result.status == "finished", result.message
        histories[jit] = result.history["loss"]
    assert all(math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6) for a, b in zip(histories[False], histories[True])), histories


def _train_pair(config: dict, steps: int, change_lr_at: int | None = None) -> tuple[float, int, bool]:
    """(largest weight difference, graphs compiled, whether it compiled) for a compiled and an eager
    optimizer given the same gradients."""
    torch._dynamo.reset()
    counters.clear()
    torch.manual_seed(0)
    compiled_weights = [torch.randn(5, 3, requires_grad=True), torch.randn(3, requires_grad=True)]
    eager_weights = [w.detach().clone().requires_grad_() for w in compiled_weights]
    compiled, eager = build_optimizer(optimizer_config(config), compiled_weights), build_optimizer(optimizer_config(config), eager_weights)
    compiles = compiled.compile_update()
    for step in range(steps):
        if step == change_lr_at:
            compiled.set_learning_rate(0.005)
            eager.set_learning_rate(0.005)
        gradients = [torch.randn_like(w) for w in compiled_weights]
        for weights in (compiled_weights, eager_weights):
            for weight, gradient in zip(weights, gradients):
                weight.grad = gradient.clone()
        compiled.step()
        eager.step()
    difference = max(float((a - b).detach().abs().max()) for a, b in zip(compiled_weights, eager_weights))
    return difference, int(counters["stats"]["unique_graphs"]), compiles


@pytest.mark.parametrize("config", [
    {"type": "sgd", "momentum": 0.9, "nesterov": True},
    {"type": "rmsprop", "centered": True, "momentum": 0.5},
    {"type": "adam", "amsgrad": True, "clipnorm": 1.0},
    {"type": "adamw"},
], ids=lambda config: config["type"])
def test_a_compiled_update_matches_eager_and_compiles_at_most_twice(config):
    difference, graphs, compiles = _train_pair(config, steps=12)
    assert compiles
    assert difference < 1e-6
    assert 1 <= graphs <= 2  # the iteration count becomes symbolic after its first change: no compilation per step


@pytest.mark.parametrize("config", [
    {"type": "nadam"},
    {"type": "sgd", "learning_rate": {"type": "ExponentialDecay", "initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}},
], ids=["nadam", "schedule"])
def test_updates_with_per_step_floats_stay_eager(config):
    difference, graphs, compiles = _train_pair(config, steps=5)
    assert not compiles and graphs == 0 and difference == 0.0


def test_a_changed_learning_rate_goes_back_to_the_eager_update():
    difference, graphs, compiles = _train_pair({"type": "sgd", "momentum": 0.9}, steps=8, change_lr_at=4)
    assert compiles and graphs == 1 and difference < 1e-6
