"""The one-way pipeline: check_spec returns the checked spec (spec, graph, training plan), every
spec-only check runs there with its location, and nested models live on the resolved graph."""

from __future__ import annotations

import subprocess
import sys

import pytest

from modelspec.checked import CheckedSpec, check_spec
from modelspec.layers.model import Model
from modelspec.plan import plan_training
from tests.helpers import SPECS, only_problem, write

STATEFUL = """
name: m
sequential:
  - {type: LSTM, units: 4, stateful: true, batch_input_shape: [8, 5, 3]}
  - {type: Dense, units: 2, activation: softmax}
compile: {loss: categorical_crossentropy}
fit:
  epochs: 1
  batch_size: 32
"""

TWO_OUTPUTS = """
name: m
inputs: {x: {shape: [4]}}
layers:
  - {name: a, type: Dense, units: 3, activation: softmax, inputs: x}
  - {name: b, type: Dense, units: 1, activation: sigmoid, inputs: x}
outputs: [a, b]
compile: {loss: [categorical_crossentropy, binary_crossentropy]}
fit:
  epochs: 1
  class_weight: {0: 1.0, 1: 2.0}
"""

BEYOND = """
name: m
sequential:
  - {type: Dense, units: 3, activation: softmax, input_dim: 4}
compile: {loss: categorical_crossentropy}
fit:
  epochs: 1
  class_weight: {0: 1.0, 5: 2.0}
"""


@pytest.mark.parametrize("text, line, message", [
    (STATEFUL, 8, "fit.batch_size is 32, but the model fixes the batch size to 8 (batch_input_shape / batch_size)"),
    (TWO_OUTPUTS, 10, "fit.class_weight needs a model with a single trained output (as in Keras)"),
    (BEYOND, 7, "fit.class_weight names class 5, but output 'y' has 3 classes (0 to 2)"),
])
def test_spec_only_fit_checks_are_located_at_validation(tmp_path, text, line, message):
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.message) == (line, message)


def test_modelspec_validate_reports_them_at_their_line(tmp_path):
    path = write(tmp_path, STATEFUL)
    done = subprocess.run([sys.executable, "-m", "modelspec", "validate", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{path}:8:15: fit.batch_size is 32, but the model fixes the batch size to 8" in done.stdout + done.stderr


def test_a_fixed_batch_size_is_checked_only_for_a_spec_with_a_fit_section(tmp_path):
    model_only = STATEFUL.split("compile:")[0]
    assert check_spec(write(tmp_path, model_only)).graph.inputs["x"].shape == (8, 5, 3)
    problem = only_problem(tmp_path, model_only + "fit: {epochs: 1}\n")
    assert (problem.line, problem.message) == (5, "fit.batch_size is 32, but the model fixes the batch size to 8 (batch_input_shape / batch_size)")
    assert check_spec(write(tmp_path, STATEFUL), ["fit.batch_size=8"]).spec.fit.batch_size == 8


def test_check_spec_returns_the_spec_graph_and_plan_once(tmp_path):
    checked = check_spec(SPECS / "headline.yaml", ["fit.epochs=1"])
    assert isinstance(checked, CheckedSpec) and checked.base_dir == SPECS
    assert checked.spec.fit.epochs == 1 and checked.overrides == ["fit.epochs=1"]
    assert checked.plan == plan_training(checked.spec, checked.graph, checked.located)
    assert check_spec(checked.located).graph.total_params == checked.graph.total_params


def test_nested_model_graphs_live_on_the_resolved_graph_not_on_configs():
    assert not Model.__private_attributes__
    graph = check_spec(SPECS / "video_classifier.yaml").graph
    assert list(graph.submodels) == ["per_frame.layer"]
    inner = graph.submodels["per_frame.layer"]
    assert graph.layers["per_frame"].submodels() == [inner] and graph.nested_models() == {"per_frame.layer": inner}
    assert graph.layers["per_frame"].params == inner.total_params


def test_the_torch_builder_compiles_nested_graphs():
    pytest.importorskip("torch")
    from modelspec.torch_build import build_module

    graph = check_spec(SPECS / "video_classifier.yaml").graph
    module = build_module(graph)
    assert type(module.get_submodule("per_frame.layer")).__name__ == graph.submodels["per_frame.layer"].name
    assert sorted(module.state_dict()) == sorted(graph.weights())


def test_checking_and_interop_never_import_the_training_loop():
    code = (
        "import sys\n"
        "import modelspec.checked, modelspec.interop.export, modelspec.interop.keras_weights, modelspec.interop.keras_config\n"
        "print('modelspec.training.run' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]


def test_check_spec_never_imports_torch():
    code = (
        "import sys\n"
        "from modelspec.checked import check_spec\n"
        f"check_spec({str(SPECS / 'video_classifier.yaml')!r})\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False"]
