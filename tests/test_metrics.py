"""Metrics: spec validation, accuracy resolution, and each torch metric against NumPy over two updates."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from modelspec.config import StrictModel
from modelspec.metrics import (
    AUC,
    METRIC_ALIASES,
    METRIC_NAMES,
    BinaryAccuracy,
    MetricSpec,
    PlainMetric,
    TopKAccuracy,
    metric_config,
    metric_name,
    resolve_accuracy,
)
from modelspec.metrics import METRICS, MetricKind
from modelspec.metrics.runtime import Mean, build_metric


class Compiled(StrictModel):
    metrics: list[MetricSpec]


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def run(spec, batches, loss=None, output_shape=(3,)) -> float:
    """The metric's result after one update per (y_true, y_pred, sample_weight) batch."""
    metric = build_metric(spec, loss, output_shape)
    for y_true, y_pred, weight in batches:
        metric.update(y_true, y_pred, weight)
    result = metric.result()
    assert result.shape == ()
    return result.item()


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float((values * weights).sum() / weights.sum())


RNG = np.random.default_rng(7)
PROBS = [RNG.dirichlet(np.ones(4), size=6), RNG.dirichlet(np.ones(4), size=5)]
CLASSES = [RNG.integers(0, 4, size=6), RNG.integers(0, 4, size=5)]
WEIGHTS = [RNG.uniform(0.1, 2.0, size=6), RNG.uniform(0.1, 2.0, size=5)]


def np_in_top_k(labels, probs, k):
    return np.array([(p > p[c]).sum() < k for c, p in zip(labels, probs)], dtype=float)


# --- accuracy and regression metrics, accumulated over two batches ---------------------------

@pytest.mark.parametrize("weighted", [False, True])
def test_categorical_and_sparse_accuracy(weighted):
    per_sample = np.concatenate([(p.argmax(-1) == c) for p, c in zip(PROBS, CLASSES)]).astype(float)
    weights = np.concatenate(WEIGHTS) if weighted else np.ones_like(per_sample)
    expected = weighted_mean(per_sample, weights)
    w = [t(x) if weighted else None for x in WEIGHTS]
    one_hot = [t(np.eye(4)[c]) for c in CLASSES]
    assert run("categorical_accuracy", [(y, t(p), x) for y, p, x in zip(one_hot, PROBS, w)]) == pytest.approx(
        expected)
    sparse = [(torch.tensor(c), t(p), x) for c, p, x in zip(CLASSES, PROBS, w)]
    assert run("sparse_categorical_accuracy", sparse) == pytest.approx(expected)
    column = [(torch.tensor(c, dtype=torch.float32)[:, None], t(p), x) for c, p, x in zip(CLASSES, PROBS, w)]
    assert run("sparse_categorical_accuracy", column) == pytest.approx(expected)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracies(k):
    per_sample = np.concatenate([np_in_top_k(c, p, k) for p, c in zip(PROBS, CLASSES)])
    expected = weighted_mean(per_sample, np.concatenate(WEIGHTS))
    dense = [(t(np.eye(4)[c]), t(p), t(w)) for c, p, w in zip(CLASSES, PROBS, WEIGHTS)]
    assert run({"type": "top_k_categorical_accuracy", "k": k}, dense) == pytest.approx(expected)
    sparse = [(torch.tensor(c)[:, None], t(p), t(w)) for c, p, w in zip(CLASSES, PROBS, WEIGHTS)]
    assert run({"type": "sparse_top_k_categorical_accuracy", "k": k}, sparse) == pytest.approx(expected)


def test_top_k_counts_ties_as_in_and_k_above_the_class_count():
    y, p = t([[0, 0, 1.0]]), t([[0.4, 0.2, 0.4]])
    assert run({"type": "top_k_categorical_accuracy", "k": 1}, [(y, p, None)]) == 1.0
    assert run("top_k_categorical_accuracy", [(y, t([[0.5, 0.3, 0.2]]), None)]) == 1.0  # k=5 > 3 classes


@pytest.mark.parametrize("threshold", [0.5, 0.7])
def test_binary_accuracy(threshold):
    labels = [RNG.integers(0, 2, size=(6, 1)), RNG.integers(0, 2, size=(5, 1))]
    probs = [RNG.uniform(size=(6, 1)), RNG.uniform(size=(5, 1))]
    per_sample = np.concatenate([(y == (p > threshold)).mean(-1) for y, p in zip(labels, probs)])
    expected = weighted_mean(per_sample, np.concatenate(WEIGHTS))
    spec = {"type": "binary_accuracy", "threshold": threshold}
    rank_one = [(torch.tensor(y[:, 0]), t(p), t(w)) for y, p, w in zip(labels, probs, WEIGHTS)]
    assert run(spec, rank_one, output_shape=(1,)) == pytest.approx(expected)
    assert run(spec, [(torch.tensor(y), t(p), None) for y, p in zip(labels, probs)]) == pytest.approx(
        per_sample.mean())


def test_multi_label_binary_accuracy_averages_over_labels_first():
    y, p = t([[1, 0, 1], [0, 0, 1.0]]), t([[0.9, 0.6, 0.2], [0.1, 0.3, 0.8]])
    assert run("binary_accuracy", [(y, p, t([1.0, 3.0]))]) == pytest.approx((1 / 3 * 1 + 1 * 3) / 4)


@pytest.mark.parametrize("name, fn", [
    ("mse", lambda y, p: ((y - p) ** 2).mean(-1)),
    ("mean_absolute_error", lambda y, p: np.abs(y - p).mean(-1)),
])
def test_regression_metrics(name, fn):
    ys = [RNG.normal(size=(6, 2)), RNG.normal(size=(5, 2))]
    ps = [RNG.normal(size=(6, 2)), RNG.normal(size=(5, 2))]
    per_sample = np.concatenate([fn(y, p) for y, p in zip(ys, ps)])
    batches = [(t(y), t(p), t(w)) for y, p, w in zip(ys, ps, WEIGHTS)]
    assert run(name, batches) == pytest.approx(weighted_mean(per_sample, np.concatenate(WEIGHTS)))


def test_mse_metric_by_hand():
    y, p = t([[0.0, 1.0], [1.0, 0.0]]), t([[0.2, 0.8], [0.9, 0.1]])
    assert run("mse", [(y, p, None), (y, y, None)]) == pytest.approx((0.04 + 0.01 + 0 + 0) / 4)


def test_reset_and_empty_result():
    metric = build_metric("acc", "sparse_categorical_crossentropy", (4,))
    assert metric.result().item() == 0.0
    metric.update(torch.tensor([0, 1]), t([[0.9, 0.1, 0, 0], [0.9, 0.1, 0, 0]]))
    assert metric.result().item() == 0.5
    metric.reset()
    assert metric.result().item() == 0.0
    metric.update(torch.tensor([1]), t([[0.1, 0.9, 0, 0]]))
    assert metric.result().item() == 1.0


def test_mean_weighted_by_batch_size():
    mean = Mean("loss")
    mean.update(torch.tensor(2.0), sample_weight=3)
    mean.update(torch.tensor(4.0), sample_weight=1)
    assert mean.result().item() == pytest.approx((2 * 3 + 4) / 4)
    mean.update(torch.tensor([1.0, 3.0]), sample_weight=torch.tensor([1.0, 0.0]))
    assert mean.result().item() == pytest.approx((2 * 3 + 4 + 1) / 5)
    mean.reset()
    mean.update(torch.tensor([1.0, 2.0, 6.0]))
    assert mean.result().item() == pytest.approx(3.0)


# --- precision, recall, AUC -------------------------------------------------------------------

def test_precision_and_recall_by_hand():
    y, p = torch.tensor([0, 1, 1, 1]), torch.tensor([1.0, 0, 1, 1])
    assert run("precision", [(y, p, None)]) == pytest.approx(2 / 3)  # Keras's docstring example
    assert run("precision", [(y, p, torch.tensor([0, 0, 1, 0]))]) == 1.0
    # Two batches: tp = 2 + 1, fp = 1 + 1, fn = 1 + 0; a prediction of exactly 0.5 is negative.
    y2, p2 = torch.tensor([[1], [0], [0]]), torch.tensor([[0.8], [0.6], [0.5]])
    assert run("precision", [(y, p, None), (y2, p2, None)]) == pytest.approx(3 / 5)
    assert run("recall", [(y, p, None), (y2, p2, None)]) == pytest.approx(3 / 4)
    weighted = [(y, p, torch.tensor([1.0, 2.0, 0.5, 0.5])), (y2, p2, torch.tensor([2.0, 1.0, 1.0]))]
    assert run("recall", weighted) == pytest.approx((0.5 + 0.5 + 2) / (0.5 + 0.5 + 2 + 2))
    assert run({"type": "precision", "thresholds": 0.7}, [(y2, p2, None)]) == 1.0


def test_precision_for_one_class():
    y = t([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]])
    p = t([[0.6, 0.3, 0.1], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1]])
    assert run({"type": "precision", "class_id": 0}, [(y, p, None)]) == pytest.approx(1 / 2)
    assert run({"type": "recall", "class_id": 1}, [(y, p, None)]) == pytest.approx(1 / 2)


def np_keras_auc(labels, preds, weights, num_thresholds=200, curve="ROC", summation="interpolation"):
    """Keras's AUC from its definition: counts at thresholds [-eps, 1/(n-1), ..., 1+eps], then the sum."""
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    thresholds = np.array([-1e-7] + inner + [1 + 1e-7])
    positive = preds[None, :] > thresholds[:, None]
    tp = (positive * labels * weights).sum(1)
    fp = (positive * (1 - labels) * weights).sum(1)
    fn = ((1 - positive) * labels * weights).sum(1)
    tn = ((1 - positive) * (1 - labels) * weights).sum(1)

    def div(a, b):
        return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))

    if curve == "PR" and summation == "interpolation":
        p = tp + fp
        dtp, dp = tp[:-1] - tp[1:], p[:-1] - p[1:]
        slope = div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), div(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)).sum()
    recall = div(tp, tp + fn)
    x, y = (div(fp, fp + tn), recall) if curve == "ROC" else (recall, div(tp, tp + fp))
    heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": np.minimum(y[:-1], y[1:]),
               "majoring": np.maximum(y[:-1], y[1:])}[summation]
    return ((x[:-1] - x[1:]) * heights).sum()


def auc_batches(size=400, seed=3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=size).astype(float)
    preds = np.clip(0.3 * labels + rng.uniform(0, 0.7, size=size), 0, 1)
    preds[:3] = [0.0, 1.0, 0.5]  # the end thresholds and an exact threshold
    weights = rng.uniform(0.2, 2.0, size=size)
    return labels, preds, weights


@pytest.mark.parametrize("curve, summation", [
    ("ROC", "interpolation"), ("ROC", "minoring"), ("ROC", "majoring"),
    ("PR", "interpolation"), ("PR", "minoring"), ("PR", "majoring"),
])
@pytest.mark.parametrize("num_thresholds", [200, 7])
def test_auc_matches_keras_formula(curve, summation, num_thresholds):
    labels, preds, weights = auc_batches()
    spec = {"type": "auc", "num_thresholds": num_thresholds, "curve": curve, "summation_method": summation}
    half = len(labels) // 2
    batches = [(t(labels[s])[:, None], t(preds[s])[:, None], t(weights[s])) for s in (slice(0, half),
                                                                                       slice(half, None))]
    expected = np_keras_auc(labels, preds, weights, num_thresholds, curve, summation)
    assert run(spec, batches, output_shape=(1,)) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_auc_close_to_sklearn_with_many_thresholds():
    roc_auc_score = pytest.importorskip("sklearn.metrics").roc_auc_score
    labels, preds, _ = auc_batches(size=2000, seed=11)
    batches = [(t(labels[:1000]), t(preds[:1000]), None), (t(labels[1000:]), t(preds[1000:]), None)]
    assert run({"type": "auc", "num_thresholds": 1000}, batches, output_shape=(1,)) == pytest.approx(
        roc_auc_score(labels, preds), abs=1e-2)
    assert run("auc", batches, output_shape=(1,)) == pytest.approx(roc_auc_score(labels, preds), abs=1e-2)


def test_auc_keras_docstring_example_and_logits():
    y, p = t([0, 0, 1, 1]), t([0, 0.5, 0.3, 0.9])
    assert run({"type": "auc", "num_thresholds": 3}, [(y, p, None)]) == pytest.approx(0.75)
    assert run({"type": "auc", "num_thresholds": 3}, [(y, p, t([1, 0, 0, 1]))]) == pytest.approx(1.0)
    logits = torch.logit(t([0.1, 0.4, 0.35, 0.8]))
    assert run({"type": "auc", "from_logits": True}, [(y, logits, None)]) == pytest.approx(0.75)


def test_metric_float32_state_and_no_graph_breaks():
    metric = build_metric("auc", None, (1,))
    update = torch.compile(metric.update, backend="eager", fullgraph=True)  # fails on .item()
    update(torch.tensor([0.0, 1.0, 1.0]), torch.tensor([0.2, 0.7, 0.4]), torch.tensor([1.0, 1.0, 2.0]))
    assert metric.result().dtype == torch.float32
    assert metric.result().item() == pytest.approx(1.0)
    accuracy = build_metric("accuracy", "sparse_categorical_crossentropy", (3,))
    torch.compile(accuracy.update, backend="eager", fullgraph=True)(torch.tensor([2, 0]), torch.eye(3)[[2, 1]])
    assert accuracy.result().item() == 0.5


# --- resolution, names, specs ------------------------------------------------------------------

@pytest.mark.parametrize("loss, shape, expected", [
    ("binary_crossentropy", (1,), "binary_accuracy"),
    ("mse", (1,), "binary_accuracy"),
    ("sparse_categorical_crossentropy", (1,), "binary_accuracy"),  # Keras checks the binary case first
    ("sparse_categorical_crossentropy", (10,), "sparse_categorical_accuracy"),
    ("sparse_categorical_crossentropy", (None, 7), "sparse_categorical_accuracy"),
    ("categorical_crossentropy", (10,), "categorical_accuracy"),
    ("binary_crossentropy", (5,), "categorical_accuracy"),  # Keras 3: labels shaped like the output
    (None, (4,), "categorical_accuracy"),
])
def test_resolve_accuracy(loss, shape, expected):
    assert resolve_accuracy(loss, shape) == expected


def test_build_metric_resolves_accuracy_and_keeps_the_written_name():
    metric = build_metric("acc", {"type": "sparse_categorical_crossentropy", "from_logits": True}, (5,))
    assert metric.name == "acc"
    metric.update(torch.tensor([1, 2]), t([[0, 3.0, 1, 0, 0], [0, 3.0, 1, 0, 0]]))
    assert metric.result().item() == 0.5
    assert build_metric("accuracy", "binary_crossentropy", (1,)).name == "accuracy"
    assert build_metric({"type": "auc", "name": "roc"}, None, (1,)).name == "roc"


def test_metric_names():
    assert metric_name("acc") == "acc"
    assert metric_name("mse", "main_output") == "main_output_mse"
    assert metric_name({"type": "mse"}) == "mean_squared_error"
    assert metric_name({"type": "top_k_categorical_accuracy", "k": 3}) == "top_k_categorical_accuracy"
    assert metric_name({"type": "precision", "name": "p"}, "out") == "out_p"


def test_metric_configs():
    assert metric_config("acc") == PlainMetric(type="accuracy", name="acc")
    assert metric_config("mae") == PlainMetric(type="mean_absolute_error", name="mae")
    assert metric_config("binary_accuracy") == BinaryAccuracy(type="binary_accuracy", name="binary_accuracy")
    assert metric_config({"type": "sparse_top_k_categorical_accuracy"}).k == 5
    assert metric_config("auc") == AUC(type="auc", name="auc")
    assert {METRIC_ALIASES.get(n, n) for n in METRIC_NAMES} == set(METRICS)


def test_the_table_is_the_one_source_of_names_schema_and_implementations():
    assert METRIC_NAMES == tuple(name for kind in METRICS.values() for name in kind.names)
    assert set(PlainMetric.model_json_schema()["properties"]["type"]["enum"]) == {
        name for kind in METRICS.values() if kind.config is None for name in kind.names}
    assert [name for name, kind in METRICS.items() if kind.runtime is None] == ["accuracy"]  # resolved, see above
    for name in set(METRICS) - {"accuracy"}:
        assert build_metric(name, None, (3,)).name == name


def test_a_wrong_entry_fails_when_the_table_is_built():
    with pytest.raises(ValueError, match="TopKAccuracy.type does not accept"):
        MetricKind("top_k", TopKAccuracy)
    with pytest.raises(ValueError, match="'package.module:attribute'"):
        MetricKind("mine", runtime="mine")


def test_specs_validate_names_and_configs():
    specs = Compiled.model_validate(
        {"metrics": ["accuracy", {"type": "top_k_categorical_accuracy", "k": 3}, {"type": "auc"}]}).metrics
    assert specs[0] == "accuracy"
    assert specs[1] == TopKAccuracy(type="top_k_categorical_accuracy", k=3)


def errors(value) -> list[dict]:
    with pytest.raises(ValidationError) as info:
        Compiled.model_validate({"metrics": [value]})
    return info.value.errors(include_url=False)


def test_unknown_metric_name():
    [error] = errors("acuracy")
    assert error["type"] == "unknown_metric" and error["loc"] == ("metrics", 0)
    assert "Unknown metric 'acuracy' (did you mean 'accuracy'?)" in error["msg"]
    assert "'sparse_top_k_categorical_accuracy'" in error["msg"]


@pytest.mark.parametrize("value, kind, loc", [
    ({"type": "top_k_categorical_accuracy", "kk": 3}, "extra_forbidden",
     ("metrics", 0, "top_k_categorical_accuracy", "kk")),
    ({"type": "top_k_categorical_accuracy", "k": 0}, "greater_than", ("metrics", 0, "top_k_categorical_accuracy", "k")),
    ({"type": "binary_accuracy", "threshold": 1.0}, "less_than", ("metrics", 0, "binary_accuracy", "threshold")),
    ({"type": "auc", "num_thresholds": 1}, "greater_than", ("metrics", 0, "auc", "num_thresholds")),
    ({"type": "auc", "curve": "roc"}, "literal_error", ("metrics", 0, "auc", "curve")),
    ({"type": "auc", "num_thresholds": 200.0}, "int_type", ("metrics", 0, "auc", "num_thresholds")),
])
def test_bad_metric_configs(value, kind, loc):
    [error] = errors(value)
    assert (error["type"], error["loc"]) == (kind, loc)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_losses_and_updates_do_not_sync_on_cuda():
    from modelspec.losses.runtime import build_loss

    cuda = torch.device("cuda")
    labels = torch.tensor([0, 2, 1, 1], device=cuda)
    logits = torch.randn(4, 3, device=cuda)
    probs, one_hot = logits.softmax(-1), torch.eye(3, device=cuda)[labels]
    weight = torch.rand(4, device=cuda)
    metrics = [build_metric(name, "categorical_crossentropy", (3,)) for name in
               ["acc", "top_k_categorical_accuracy", "mse", "precision", "recall", "auc"]]
    losses = [build_loss(spec) for spec in
              ["categorical_crossentropy", "hinge", {"type": "categorical_crossentropy", "from_logits": True}]]
    sparse = build_loss({"type": "sparse_categorical_crossentropy", "ignore_class": 0})
    running = Mean("loss")
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for loss in losses:
            running.update(loss(one_hot, probs, weight), sample_weight=4)
        running.update(sparse(labels, logits, weight), sample_weight=4)
        for metric in metrics:
            metric.update(one_hot, probs, weight)
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert all(metric.result().device.type == "cuda" for metric in metrics)
    assert running.result().device.type == "cuda"
