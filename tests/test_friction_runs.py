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
