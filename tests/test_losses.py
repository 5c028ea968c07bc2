"""Losses: spec validation, and each torch loss against closed forms in NumPy float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from modelspec.config import StrictModel
from modelspec.losses import (
    LABEL_KINDS,
    LOSS_ALIASES,
    LOSS_NAMES,
    LOSSES,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    LossKind,
    LossSpec,
    PlainLoss,
    SparseCategoricalCrossentropy,
    logits_variant,
    loss_config,
    loss_kind,
)
from modelspec.losses.runtime import build_loss, per_sample

EPS = 1e-7


class Compiled(StrictModel):
    loss: LossSpec


def t(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def mean_over_batch(per_sample: np.ndarray, weight: np.ndarray | None = None) -> float:
    """Keras's sum_over_batch_size: sum(w * loss) / number of samples."""
    weighted = per_sample if weight is None else per_sample * weight
    return float(weighted.sum() / per_sample.size)


# --- NumPy references, written from the formulas in Keras's docstrings -------------------------

def np_cce(y, p, smoothing=0.0):
    y = y * (1 - smoothing) + smoothing / y.shape[-1]
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(y * np.log(p)).sum(-1)


def np_bce(y, p, smoothing=0.0):
    y = y * (1 - smoothing) + 0.5 * smoothing
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def np_huber(y, p, delta=1.0):
    e = np.abs(p - y)
    return np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2).mean(-1)


def np_hinge_labels(y):
    return 2 * y - 1 if np.isin(y, [0, 1]).all() else y


def np_unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), EPS)


REG_TRUE = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, -1.0]])
REG_PRED = np.array([[0.2, 0.8], [0.9, 0.1], [0.5, 0.5]])
PROB_TRUE = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
PROB_PRED = np.array([[0.1, 0.7, 0.2], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]])
POS_TRUE = np.array([[1.0, 2.0], [0.5, 3.0], [4.0, 0.1]])
POS_PRED = np.array([[1.5, 1.0], [0.4, 2.5], [3.0, 0.3]])
BIN_TRUE = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])

CASES = {
    "mean_squared_error": (REG_TRUE, REG_PRED, lambda y, p: ((y - p) ** 2).mean(-1)),
    "mean_absolute_error": (REG_TRUE, REG_PRED, lambda y, p: np.abs(y - p).mean(-1)),
    "mean_absolute_percentage_error": (
        POS_TRUE, POS_PRED, lambda y, p: 100 * np.abs((y - p) / np.maximum(np.abs(y), EPS)).mean(-1)),
    "mean_squared_logarithmic_error": (
        POS_TRUE, POS_PRED, lambda y, p: ((np.log(p + 1) - np.log(y + 1)) ** 2).mean(-1)),
    "huber": (REG_TRUE, REG_PRED * 3, np_huber),
    "kl_divergence": (PROB_TRUE, PROB_PRED, lambda y, p: (
        np.clip(y, EPS, 1) * np.log(np.clip(y, EPS, 1) / np.clip(p, EPS, 1))).sum(-1)),
    "poisson": (POS_TRUE, POS_PRED, lambda y, p: (p - y * np.log(p + EPS)).mean(-1)),
    "hinge": (BIN_TRUE, REG_PRED, lambda y, p: np.maximum(1 - np_hinge_labels(y) * p, 0).mean(-1)),
    "squared_hinge": (BIN_TRUE, REG_PRED, lambda y, p: (np.maximum(1 - np_hinge_labels(y) * p, 0) ** 2).mean(-1)),
    "categorical_hinge": (PROB_TRUE, PROB_PRED, lambda y, p: np.maximum(
        ((1 - y) * p).max(-1) - (y * p).sum(-1) + 1, 0)),
    "cosine_similarity": (REG_TRUE, REG_PRED, lambda y, p: -(np_unit(y) * np_unit(p)).sum(-1)),
    "log_cosh": (REG_TRUE, REG_PRED * 4, lambda y, p: np.log(np.cosh(p - y)).mean(-1)),
    "categorical_crossentropy": (PROB_TRUE, PROB_PRED, np_cce),
    "binary_crossentropy": (BIN_TRUE, REG_PRED, np_bce),
}


def test_every_canonical_loss_has_an_implementation_and_a_test():
    canonical = {LOSS_ALIASES.get(name, name) for name in LOSS_NAMES}
    assert canonical == set(LOSSES)
    assert all(callable(per_sample(name)) for name in LOSSES)
    assert canonical - set(CASES) == {"sparse_categorical_crossentropy"}  # tested below


# --- the registration table --------------------------------------------------------------------

def test_the_table_is_the_one_source_of_names_schema_and_facts():
    assert LOSS_NAMES == tuple(name for kind in LOSSES.values() for name in kind.names)
    assert set(PlainLoss.model_json_schema()["properties"]["type"]["enum"]) == {
        name for kind in LOSSES.values() if kind.config is None for name in kind.names}
    assert LABEL_KINDS == {"categorical_crossentropy": "categorical", "sparse_categorical_crossentropy": "sparse",
                           "binary_crossentropy": "binary"}
    assert {name: kind.logits_of for name, kind in LOSSES.items() if kind.logits_of} == {
        "categorical_crossentropy": "softmax", "sparse_categorical_crossentropy": "softmax", "binary_crossentropy": "sigmoid"}
    assert loss_kind("kld") is LOSSES["kl_divergence"] and loss_kind({"type": "huber"}).config is Huber
    assert LOSSES["poisson"].runtime == "modelspec.losses.runtime:poisson"


@pytest.mark.parametrize("entry, message", [
    (dict(name="huber2", config=Huber), "Huber.type does not accept"),
    (dict(name="huber", config=Huber, logits_of="softmax"), "logits_of needs a config with from_logits"),
    (dict(name="mine", runtime="mine"), "'package.module:attribute'"),
])
def test_a_wrong_entry_fails_when_the_table_is_built(entry, message):
    with pytest.raises(ValueError, match=message):
        LossKind(**entry)


def doubled_mse(y_true, y_pred, config):
    return 2.0 * (y_true - y_pred).square().mean(dim=-1)


def test_the_entry_names_the_function_that_runs(monkeypatch):
    # An entry may name its per-sample function in any module: build_loss imports what the entry names.
    monkeypatch.setitem(LOSSES, "mean_squared_error", LossKind("mean_squared_error", runtime="tests.test_losses:doubled_mse"))
    y, p = t(REG_TRUE), t(REG_PRED)
    assert build_loss("mse")(y, p).item() == pytest.approx(2.0 * mean_over_batch(((REG_TRUE - REG_PRED) ** 2).mean(-1)))


def test_mse_by_hand():
    loss = build_loss("mse")(torch.tensor([[0.0, 1.0], [1.0, 0.0]]), torch.tensor([[0.2, 0.8], [0.9, 0.1]]))
    assert loss.shape == ()
    assert loss.item() == pytest.approx(((0.04 + 0.04) / 2 + (0.01 + 0.01) / 2) / 2)


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_matches_numpy(name):
    y, p, reference = CASES[name]
    assert build_loss(name)(t(y), t(p)).item() == pytest.approx(mean_over_batch(reference(y, p)), rel=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_with_sample_weight(name):
    y, p, reference = CASES[name]
    w = np.array([0.5, 2.0, 0.0])
    assert build_loss(name)(t(y), t(p), t(w)).item() == pytest.approx(
        mean_over_batch(reference(y, p), w), rel=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_inputs_give_float32_losses_close_to_float64(name):
    y, p, reference = CASES[name]
    loss = build_loss(name)(torch.tensor(y, dtype=torch.float32), torch.tensor(p, dtype=torch.float32))
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(mean_over_batch(reference(y, p)), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("alias", sorted(LOSS_ALIASES))
def test_aliases_compute_their_loss(alias):
    y, p = t(POS_TRUE), t(POS_PRED)
    assert torch.equal(build_loss(alias)(y, p), build_loss(LOSS_ALIASES[alias])(y, p))


def test_keras_docstring_values():
    # Values printed in keras/src/losses/losses.py's examples.
    cce = build_loss("categorical_crossentropy")
    y, p = torch.tensor([[0.0, 1, 0], [0, 0, 1]]), torch.tensor([[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    assert cce(y, p).item() == pytest.approx(1.177, abs=1e-3)
    assert cce(y, p, torch.tensor([0.3, 0.7])).item() == pytest.approx(0.814, abs=1e-3)
    bce = build_loss({"type": "binary_crossentropy", "from_logits": True})
    logits = torch.tensor([[-18.6, 0.51], [2.94, -12.8]])
    assert bce(torch.tensor([[0.0, 1], [0, 0]]), logits).item() == pytest.approx(0.8654, abs=1e-3)
    assert bce(torch.tensor([[0.0, 1], [0, 0]]), logits, torch.tensor([0.8, 0.2])).item() == pytest.approx(
        0.243, abs=1e-3)
    assert build_loss("huber")(torch.tensor([[0.0, 1], [0, 0]]), torch.tensor([[0.6, 0.4], [0.4, 0.6]])).item() \
        == pytest.approx(0.155, abs=1e-3)


def test_categorical_crossentropy_renormalises_and_clips():
    # Probabilities not summing to 1 are renormalised; a zero probability is clipped to 1e-7.
    y = t([[0.0, 1.0, 0.0]])
    assert build_loss("categorical_crossentropy")(y, t([[0.2, 0.4, 0.2]])).item() == pytest.approx(-np.log(0.5))
    assert build_loss("categorical_crossentropy")(y, t([[0.5, 0.0, 0.5]])).item() == pytest.approx(-np.log(EPS))


@pytest.mark.parametrize("smoothing", [0.1, 0.3])
def test_label_smoothing(smoothing):
    cce = build_loss({"type": "categorical_crossentropy", "label_smoothing": smoothing})
    assert cce(t(PROB_TRUE), t(PROB_PRED)).item() == pytest.approx(
        mean_over_batch(np_cce(PROB_TRUE, PROB_PRED, smoothing)))
    bce = build_loss({"type": "binary_crossentropy", "label_smoothing": smoothing})
    assert bce(t(BIN_TRUE), t(REG_PRED)).item() == pytest.approx(
        mean_over_batch(np_bce(BIN_TRUE, REG_PRED, smoothing)))


LOGITS = np.array([[1.0, -0.5, 0.3], [0.2, 2.0, -1.0], [-0.7, 0.1, 0.9], [3.0, 1.0, 2.5]])
SOFTMAX = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
SIGMOID = 1 / (1 + np.exp(-LOGITS))
ONE_HOT = np.eye(3)[[1, 1, 2, 0]]


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_from_logits_equals_probabilities(smoothing):
    for name, labels, probs in [
        ("categorical_crossentropy", ONE_HOT, SOFTMAX),
        ("binary_crossentropy", ONE_HOT, SIGMOID),
    ]:
        spec = {"type": name, "label_smoothing": smoothing}
        on_probs = build_loss(spec)(t(labels), t(probs))
        on_logits = build_loss(logits_variant(spec))(t(labels), t(LOGITS))
        assert on_logits.item() == pytest.approx(on_probs.item(), rel=1e-9)
    sparse = "sparse_categorical_crossentropy"
    labels = t([1, 1, 2, 0])
    assert build_loss(logits_variant(sparse))(labels, t(LOGITS)).item() == pytest.approx(
        build_loss(sparse)(labels, t(SOFTMAX)).item(), rel=1e-9)


def test_logits_form_is_exact_where_probabilities_saturate():
    logits = t([[30.0, -30.0]])
    probs = torch.softmax(logits, dim=-1)
    labels = t([[0.0, 1.0]])
    assert build_loss("categorical_crossentropy")(labels, probs).item() == pytest.approx(-np.log(EPS), rel=1e-6)
    assert build_loss(logits_variant("categorical_crossentropy"))(labels, logits).item() == pytest.approx(60.0)


def test_logits_variant():
    assert logits_variant("categorical_crossentropy") == CategoricalCrossentropy(
        type="categorical_crossentropy", from_logits=True)
    assert logits_variant({"type": "binary_crossentropy", "label_smoothing": 0.1}) == BinaryCrossentropy(
        type="binary_crossentropy", from_logits=True, label_smoothing=0.1)
    assert logits_variant("sparse_categorical_crossentropy") == SparseCategoricalCrossentropy(
        type="sparse_categorical_crossentropy", from_logits=True)
    assert logits_variant({"type": "categorical_crossentropy", "from_logits": True}) is None
    assert logits_variant("mse") is None
    assert logits_variant("kl_divergence") is None


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.float32])
def test_sparse_labels(shape, dtype):
    labels = torch.tensor([1, 1, 2, 0], dtype=dtype).reshape(shape)
    expected = mean_over_batch(np_cce(ONE_HOT, SOFTMAX))
    assert build_loss("sparse_categorical_crossentropy")(labels, t(SOFTMAX)).item() == pytest.approx(expected)
    weight = np.array([1.0, 0.5, 2.0, 0.0])
    assert build_loss("sparse_categorical_crossentropy")(labels, t(SOFTMAX), t(weight)).item() == pytest.approx(
        mean_over_batch(np_cce(ONE_HOT, SOFTMAX), weight))


def test_sparse_ignore_class_averages_over_the_other_samples():
    loss = build_loss({"type": "sparse_categorical_crossentropy", "ignore_class": -1})
    per_sample = np_cce(ONE_HOT, SOFTMAX)
    assert loss(t([1, -1, 2, 0]), t(SOFTMAX)).item() == pytest.approx(per_sample[[0, 2, 3]].mean())
    assert loss(t([-1, -1, -1, -1]), t(SOFTMAX)).item() == 0.0


def test_rank_one_labels_against_one_unit_output():
    y, p = np.array([0.0, 1.0, 1.0]), np.array([0.2, 0.6, 0.9])
    assert build_loss("binary_crossentropy")(t(y), t(p)[:, None]).item() == pytest.approx(
        mean_over_batch(np_bce(y[:, None], p[:, None])))
    assert build_loss("mse")(t(y), t(p)[:, None]).item() == pytest.approx(((y - p) ** 2).mean())


def test_sequence_outputs_average_over_steps_and_weights_apply_per_sample():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    per_step = ((y - p) ** 2).mean(-1)  # (2, 3)
    w = np.array([1.0, 3.0])
    assert build_loss("mse")(t(y), t(p)).item() == pytest.approx(per_step.mean())
    assert build_loss("mse")(t(y), t(p), t(w)).item() == pytest.approx((per_step * w[:, None]).sum() / 6)


def test_hinge_keeps_minus_one_plus_one_labels():
    y, p = np.array([[-1.0, 1.0], [1.0, -1.0]]), np.array([[0.3, 0.2], [-0.5, 0.4]])
    assert build_loss("hinge")(t(y), t(p)).item() == pytest.approx(np.maximum(1 - y * p, 0).mean())


def test_gradients_flow_and_the_loss_traces_without_graph_breaks():
    logits = t(LOGITS).requires_grad_()
    build_loss(logits_variant("categorical_crossentropy"))(t(ONE_HOT), logits).backward()
    assert torch.isfinite(logits.grad).all()
    weight = t([1.0, 2.0, 0.5, 1.0])
    cases = [
        ({"type": "sparse_categorical_crossentropy", "ignore_class": 0}, t([1, 1, 2, 0]), t(SOFTMAX)),
        ("hinge", t(ONE_HOT), t(LOGITS)),
    ]
    for spec, y, p in cases:
        compiled = torch.compile(build_loss(spec), backend="eager", fullgraph=True)  # fails on .item()
        assert compiled(y, p, weight).item() == pytest.approx(build_loss(spec)(y, p, weight).item())


# --- spec validation ---------------------------------------------------------------------------

def errors(value) -> list[dict]:
    with pytest.raises(ValidationError) as info:
        Compiled.model_validate({"loss": value})
    return info.value.errors(include_url=False)


def test_names_and_configs_validate():
    assert Compiled.model_validate({"loss": "mse"}).loss == "mse"
    config = Compiled.model_validate({"loss": {"type": "huber", "delta": 2}}).loss
    assert config.delta == 2.0
    assert loss_config("mse") == PlainLoss(type="mean_squared_error")
    assert loss_config("kullback_leibler_divergence").type == "kl_divergence"
    assert loss_config({"type": "logcosh"}).type == "log_cosh"
    assert loss_config("categorical_crossentropy") == CategoricalCrossentropy(type="categorical_crossentropy")
    assert loss_config(config) is config


def test_unknown_name_says_what_was_meant():
    [error] = errors("mean_sqared_error")
    assert error["type"] == "unknown_loss" and error["loc"] == ("loss",)
    assert "Unknown loss 'mean_sqared_error' (did you mean 'mean_squared_error'?)" in error["msg"]
    assert "'categorical_crossentropy'" in error["msg"]
    [error] = errors({"type": "binary_crossentropi"})
    assert "did you mean 'binary_crossentropy'" in error["msg"]


def test_misspelled_key_is_located_under_the_type():
    [error] = errors({"type": "categorical_crossentropy", "from_logit": True})
    assert error["type"] == "extra_forbidden"
    assert error["loc"] == ("loss", "categorical_crossentropy", "from_logit")


@pytest.mark.parametrize("value, kind", [
    ({"type": "binary_crossentropy", "from_logits": "yes"}, "bool_type"),
    ({"type": "binary_crossentropy", "label_smoothing": 1.5}, "less_than_equal"),
    ({"type": "huber", "delta": 0}, "greater_than"),
    ({"type": "mse", "delta": 1.0}, "extra_forbidden"),
    ({"from_logits": True}, "loss_type_missing"),
    (3, "loss_type"),
])
def test_bad_configs(value, kind):
    assert [e["type"] for e in errors(value)] == [kind]
