"""Issue 17, a new user's friction (engineer C's part): run directories whose spec.yaml runs again, metrics
that fit the labels, and any identifier as a layer name."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from modelspec.metrics.runtime import build_metric
from modelspec_cli.main import main
from tests.helpers import problems, write

RNG = np.random.default_rng(17)
IDS = RNG.integers(0, 10, size=64)
PROBS = RNG.dirichlet(np.ones(10), size=64).astype(np.float32)
WEIGHTS = RNG.uniform(0.1, 2.0, size=64).astype(np.float32)


def cli(*args: str):
    return CliRunner().invoke(main, list(args), prog_name="modelspec", catch_exceptions=False)


def measured(name: str, weights: np.ndarray | None = None) -> float:
    """modelspec's value of metric `name` for class ids (64,) against a 10-way softmax (64, 10)."""
    metric = build_metric(name, "sparse_categorical_crossentropy", (None, 10))
    metric.update(torch.from_numpy(IDS), torch.from_numpy(PROBS), None if weights is None else torch.from_numpy(weights))
    return metric.result().item()


# ----- 2. metrics that fit the labels -----------------------------------------------------------
@pytest.mark.parametrize("weights", [None, WEIGHTS], ids=["unweighted", "weighted"])
def test_accuracy_mae_mse_on_class_ids_against_a_softmax_by_hand(weights):
    # Keras 3's values for ids shaped (n, 1): each id against every column of the prediction.
    w = np.ones(64) if weights is None else weights
    mean = lambda values: float((values * w).sum() / w.sum())  # noqa: E731
    assert measured("accuracy", weights) == pytest.approx(mean(PROBS.argmax(-1) == IDS), abs=1e-6)
    assert measured("mae", weights) == pytest.approx(mean(np.abs(IDS[:, None] - PROBS).mean(-1)), abs=1e-6)
    assert measured("mse", weights) == pytest.approx(mean(np.square(IDS[:, None] - PROBS).mean(-1)), rel=1e-6)
    assert measured("binary_accuracy", weights) == pytest.approx(mean((IDS[:, None] == (PROBS > 0.5)).mean(-1)), abs=1e-6)


@pytest.mark.parametrize("name", ["accuracy", "mae", "mse", "binary_accuracy", "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"])
def test_metrics_on_class_ids_are_keras_3s(name):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    from keras.src.trainers.compile_utils import get_metric

    # Keras 3 computes the regression metrics and binary_accuracy on ids shaped (n, 1) (on (n,) it raises).
    labels = IDS if "categorical" in name or name == "accuracy" else IDS[:, None]
    reference = get_metric(name, labels, PROBS)
    reference.update_state(labels, PROBS, sample_weight=WEIGHTS)
    assert isinstance(reference, keras.metrics.Metric)
    assert measured(name, WEIGHTS) == pytest.approx(float(reference.result()), abs=1e-6)


CLASS_IDS_SPEC = """
name: ids
sequential:
  - {type: Dense, units: 10, activation: softmax, input_shape: [4]}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: %s}
fit: {epochs: 1, batch_size: 16}
data:
  train: {synthetic: {samples: 64}}
"""


def test_a_run_with_accuracy_and_mae_on_class_ids_finishes(tmp_path):
    spec = write(tmp_path, CLASS_IDS_SPEC % "[accuracy, mae]")
    result = cli("train", str(spec), "--run-dir", str(tmp_path / "run"), "--quiet", "--json")
    assert result.exit_code == 0, result.output
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,accuracy,loss,mae" and len(history) == 2


@pytest.mark.parametrize(("metrics", "at", "expected"), [
    ("[accuracy, categorical_accuracy]", "categorical_accuracy]", "use sparse_categorical_accuracy (or accuracy, which picks it)"),
    ("[{type: top_k_categorical_accuracy, k: 3}]", "{type: top_k", "use sparse_top_k_categorical_accuracy"),
    ("[mae, precision]", "precision", "train this output with categorical_crossentropy or binary_crossentropy to use it"),
    ("{y: [auc]}", "auc", "needs labels shaped like the output"),
])
def test_a_metric_the_class_ids_cannot_give_is_refused_at_the_metric(tmp_path, metrics, at, expected):
    found = problems(tmp_path, CLASS_IDS_SPEC % metrics)
    line = (CLASS_IDS_SPEC % metrics).splitlines()[4]
    assert len(found) == 1 and (found[0].line, found[0].column) == (4, line.index(at) + 1), [str(p) for p in found]
    assert "is trained with sparse_categorical_crossentropy, which takes class ids" in found[0].message
    assert expected in found[0].message


def test_class_ids_metrics_on_one_hot_labels_are_refused_and_nothing_is_written(tmp_path):
    spec = write(tmp_path, (CLASS_IDS_SPEC % "[sparse_categorical_accuracy]").replace("sparse_categorical_crossentropy", "categorical_crossentropy"))
    result = CliRunner().invoke(main, ["train", str(spec), "--run-dir", str(tmp_path / "run")], prog_name="modelspec")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "metric 'sparse_categorical_accuracy' needs class ids" in result.output and "use categorical_accuracy" in result.output
    assert not (tmp_path / "run").exists()


# ----- 1. a run directory's spec.yaml runs again, from anywhere -------------------------------------
ENCODER = """
name: enc
sequential:
  - {type: Dense, units: 5, activation: relu, input_shape: [4]}
"""

RELOCATED = """
name: relocated
inputs: {x: {shape: [4]}}
layers:
  - {name: encoder, type: Model, model: {spec: parts/enc.yaml, weights: parts/enc.safetensors}, trainable: false, inputs: x}
  - {name: out, type: Dense, units: 3, activation: softmax}
outputs: out
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 1, batch_size: 16, sample_weight: data/w.npy}
data:
  train: {x: data/x.npy, y: {out: data/y.npy}}
  validation: {x: {x: data/all.npz:x}, y: data/all.npz:out}
  test: data/test.npz
"""


def relocated_project(tmp_path):
    """proj/spec.yaml with its data in proj/data/ and a model it calls in proj/parts/."""
    from modelspec.checked import check_spec
    from modelspec.torch_build import build_module
    from modelspec.weights import save_weights

    proj = tmp_path / "proj"
    (proj / "data").mkdir(parents=True)
    (proj / "parts").mkdir()
    encoder = write(proj / "parts", ENCODER, "enc.yaml")
    save_weights(build_module(check_spec(encoder).graph), proj / "parts" / "enc.safetensors")
    x, y = RNG.random((48, 4), dtype=np.float32), RNG.integers(0, 3, size=48)
    np.save(proj / "data" / "x.npy", x)
    np.save(proj / "data" / "y.npy", y)
    np.save(proj / "data" / "w.npy", np.ones(48, dtype=np.float32))
    np.savez(proj / "data" / "all.npz", x=x[:16], out=y[:16])
    np.savez(proj / "data" / "test.npz", x=x[16:], out=y[16:])
    return write(proj, RELOCATED)


def test_a_run_directorys_spec_runs_again_from_anywhere(tmp_path, monkeypatch):
    import json

    spec = relocated_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    trained = cli("train", "proj/spec.yaml", "--run-dir", "runs/r1", "--set", "fit.batch_size=8", "--quiet")
    assert trained.exit_code == 0, trained.output
    saved = (tmp_path / "runs" / "r1" / "spec.yaml").read_text()
    assert "../../proj/data/x.npy" in saved and "../../proj/data/all.npz:out" in saved and "../../proj/parts/enc.safetensors" in saved
    assert "batch_size: 8" in saved and "--set fit.batch_size=8" in saved.splitlines()[0]
    expected = json.loads(cli("evaluate", str(spec), "--weights", "runs/r1/model.safetensors", "--json").output)

    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    run = "../runs/r1"
    for command in (["validate", f"{run}/spec.yaml"], ["summary", f"{run}/spec.yaml"],
                    ["predict", f"{run}/spec.yaml", "--weights", f"{run}/model.safetensors", "--data", "../proj/data/test.npz", "--output", "p.npz"],
                    ["train", f"{run}/spec.yaml", "--run-dir", "../runs/r2", "--quiet"]):
        result = cli(*command)
        assert result.exit_code == 0, (command, result.output)
    evaluated = cli("evaluate", f"{run}/spec.yaml", "--weights", f"{run}/model.safetensors", "--json")
    assert evaluated.exit_code == 0 and json.loads(evaluated.output) == pytest.approx(expected)
    assert np.load("p.npz")["out"].shape == (32, 3)
    assert (tmp_path / "runs" / "r2" / "spec.yaml").read_text().split("\n", 3)[3] == saved.split("\n", 3)[3]  # the same paths again

    # --resume, from the spec trained or from the run's own copy
    resumed = cli("train", f"{run}/spec.yaml", "--resume", "--run-dir", run, "--set", "fit.epochs=2", "--quiet")
    assert resumed.exit_code == 0, resumed.output
    monkeypatch.chdir(tmp_path)
    resumed = cli("train", "proj/spec.yaml", "--resume", "--run-dir", "runs/r1", "--set", "fit.batch_size=8", "--set", "fit.epochs=3", "--quiet")
    assert resumed.exit_code == 0, resumed.output
    assert len((tmp_path / "runs" / "r1" / "history.csv").read_text().splitlines()) == 4


def test_a_run_written_before_its_paths_were_relative_still_resumes(tmp_path, monkeypatch):
    relocated_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert cli("train", "proj/spec.yaml", "--run-dir", "runs/r1", "--quiet").exit_code == 0
    import yaml

    from modelspec.source import load_file

    (tmp_path / "runs" / "r1" / "spec.yaml").write_text(yaml.safe_dump(load_file("proj/spec.yaml").data, sort_keys=False))
    resumed = cli("train", "proj/spec.yaml", "--resume", "--run-dir", "runs/r1", "--set", "fit.epochs=2", "--quiet")
    assert resumed.exit_code == 0, resumed.output


def test_wrapped_models_and_models_sections_have_their_paths_moved(tmp_path):
    from modelspec.checked import check_spec
    from modelspec.training.saved_spec import relocated_data

    relocated_project(tmp_path)
    text = """
    name: wrapped
    models:
      inner: {inputs: {v: {shape: [4]}}, layers: [{name: m, type: Model, model: {spec: parts/enc.yaml}, inputs: v}], outputs: m}
    inputs: {x: {shape: [2, 4]}}
    layers:
      - {name: td, type: TimeDistributed, layer: {type: Model, model: {spec: parts/enc.yaml, weights: parts/enc.safetensors}}, inputs: x}
      - {name: td2, type: TimeDistributed, layer: {model: inner}, inputs: x}
    outputs: [td, td2]
    data: {train: {dataset: digits}, test: /abs/test.npz}
    """
    data = relocated_data(check_spec(write(tmp_path / "proj", text, "wrapped.yaml")), tmp_path / "runs" / "r")
    assert data["layers"][0]["layer"]["model"] == {"spec": "../../proj/parts/enc.yaml", "weights": "../../proj/parts/enc.safetensors"}
    assert data["models"]["inner"]["layers"][0]["model"] == {"spec": "../../proj/parts/enc.yaml"}
    assert data["data"] == {"train": {"dataset": "digits"}, "test": "/abs/test.npz"}


# ----- 3. any identifier as a layer name --------------------------------------------------------------
ODD_NAMES = """
name: odd_names
models:
  inner:
    inputs: {v: {shape: [4]}}
    layers: [{name: code, type: Dense, units: 4, inputs: v}]
    outputs: code
inputs: {x: {shape: [4]}}
layers:
  - {name: lambda, type: Model, model: inner, inputs: x}
  - {name: code, type: Dense, units: 6, activation: relu, kernel_regularizer: l2}
  - {name: class, type: Dense, units: 6, activity_regularizer: l1}
  - {name: forward, type: Dropout, rate: 0.1}
  - {name: state_dict, type: Dense, units: 5}
  - {name: __init__, type: Activation, activation: tanh}
  - {name: training, type: Dense, units: 3, activation: softmax}
outputs: training
compile: {optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 1, batch_size: 16}
data:
  train: {synthetic: {samples: 32}}
"""

STANDALONE = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
import numpy as np, torch
sys.path.insert(0, ".")
from odd import OddNames
model = OddNames.load("../run/model.safetensors")
with torch.no_grad():
    print(json.dumps(model(torch.from_numpy(np.load("../inputs.npz")["x"])).tolist()))
"""


def test_keywords_and_torch_attributes_are_layer_names(tmp_path):
    from safetensors.torch import load_file

    from modelspec.checked import check_spec
    from modelspec.torch_build import build_module

    spec = write(tmp_path, ODD_NAMES)
    module = build_module(check_spec(spec).graph)
    assert "code = self.code_(lambda_1)" in module.code and "training = self.training_(" in module.code  # readable, by layer name
    assert module.training is True and module.get_submodule("class") is module.class_
    for command in (["validate", str(spec)], ["summary", str(spec)]):
        assert cli(*command).exit_code == 0
    assert "state_dict (Dense)" in cli("summary", str(spec)).output

    run = tmp_path / "run"
    assert cli("train", str(spec), "--run-dir", str(run), "--quiet").exit_code == 0
    keys = set(load_file(run / "model.safetensors"))
    assert {"code.kernel", "class.kernel", "lambda.code.kernel", "state_dict.bias", "training.kernel"} <= keys
    assert not any(key.startswith(("code_.", "class_.", "training_.")) for key in keys)
    assert cli("train", str(spec), "--run-dir", str(run), "--resume", "--set", "fit.epochs=2", "--quiet").exit_code == 0

    np.savez(tmp_path / "inputs.npz", x=RNG.random((5, 4), dtype=np.float32), training=RNG.integers(0, 3, size=5))
    weights = ["--weights", str(run / "model.safetensors")]
    assert cli("evaluate", str(spec), *weights, "--data", str(tmp_path / "inputs.npz")).exit_code == 0
    assert cli("predict", str(spec), *weights, "--data", str(tmp_path / "inputs.npz"), "--output", str(tmp_path / "p.npz")).exit_code == 0
    (tmp_path / "py").mkdir()
    exported = cli("export", str(spec), *weights, "-o", str(tmp_path / "py" / "odd.py"))
    assert exported.exit_code == 0, exported.output
    text = (tmp_path / "py" / "odd.py").read_text()
    assert "self.class_ = KerasDense(6, 6)" in text and "class_1 = self.class_(code)" in text

    import json
    import subprocess
    import sys

    site = sorted({str(__import__(name).__file__.rsplit("/", 2)[0]) for name in ("torch", "numpy", "safetensors")})
    finished = subprocess.run([sys.executable, "-I", "-S", "-c", STANDALONE, json.dumps(site)], cwd=tmp_path / "py",
                              capture_output=True, text=True, timeout=120, check=False)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert np.allclose(json.loads(finished.stdout), np.load(tmp_path / "p.npz")["training"], atol=1e-5)


def test_keyword_and_torch_names_export_to_pt2(tmp_path):
    spec = write(tmp_path, ODD_NAMES)
    from modelspec.checked import check_spec
    from modelspec.torch_build import build_module
    from modelspec.weights import save_weights

    save_weights(build_module(check_spec(spec).graph), tmp_path / "w.safetensors")
    exported = cli("export", str(spec), "--weights", str(tmp_path / "w.safetensors"), "-o", str(tmp_path / "odd.pt2"))
    assert exported.exit_code == 0, exported.output
