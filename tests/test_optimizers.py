"""Optimizers and schedules: configs against Keras's defaults, torch updates against a NumPy transcription
of Keras 3's update equations (float64), checkpoint round trips, learning-rate helpers."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from pydantic import TypeAdapter, ValidationError

from modelspec.config import StrictModel
from modelspec.errors import SpecError
from modelspec.optimizers import (
    OPTIMIZER_NAMES,
    CosineDecay,
    ExponentialDecay,
    OptimizerSpec,
    PiecewiseConstantDecay,
    optimizer_config,
)
from modelspec.optimizers.runtime import build_optimizer, current_learning_rate, set_learning_rate

# ----- the NumPy reference: Keras 3's equations, one variable at a time --------------------------
W0 = [np.array([[0.5, -1.0, 2.0], [1.5, -0.3, 0.8]]), np.array([0.2, -0.7, 1.1, -2.0])]
GRADS = [  # three steps, two variables; the third step's gradients are small so AMSGrad and Adamax's max matter
    [np.array([[0.3, -2.0, 0.5], [1.2, -0.1, 0.9]]), np.array([1.0, -0.5, 0.25, 2.0])],
    [np.array([[-0.4, 1.5, 0.6], [0.7, 0.2, -1.1]]), np.array([-0.8, 0.9, 0.1, 1.5])],
    [np.array([[0.05, -0.02, 0.01], [0.03, 0.04, -0.06]]), np.array([0.02, -0.01, 0.03, 0.05])],
]


def ref_schedule(lr, step: int) -> float:
    if isinstance(lr, (int, float)):
        return float(lr)
    kind = lr["type"]
    if kind == "ExponentialDecay":
        p = step / lr["decay_steps"]
        return lr["initial_learning_rate"] * lr["decay_rate"] ** (math.floor(p) if lr.get("staircase") else p)
    if kind == "CosineDecay":
        alpha, initial, target = lr.get("alpha", 0.0), lr["initial_learning_rate"], lr.get("warmup_target")
        warmup, decay = lr.get("warmup_steps", 0), lr["decay_steps"]
        if target is not None and step < warmup:
            return initial + (target - initial) * step / warmup
        start, s = (initial, step) if target is None else (target, step - warmup)
        s = min(s, decay)
        return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * s / decay)) + alpha)
    if kind == "PiecewiseConstantDecay":
        for boundary, value in zip(lr["boundaries"], lr["values"]):
            if step <= boundary:
                return value
        return lr["values"][-1]
    raise AssertionError(kind)


def ref_clip(c, grads):
    if c.get("clipnorm"):
        return [g * c["clipnorm"] / max(np.linalg.norm(g), c["clipnorm"]) for g in grads]
    if c.get("global_clipnorm"):
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        return [g * c["global_clipnorm"] / max(norm, c["global_clipnorm"]) for g in grads]
    if c.get("clipvalue"):
        return [np.clip(g, -c["clipvalue"], c["clipvalue"]) for g in grads]
    return grads


def ref_sgd(c, w, g, s, lr, t):
    momentum = c.get("momentum", 0.0)
    if momentum == 0:
        return w - lr * g
    s["v"] = momentum * s.get("v", 0 * w) - lr * g
    return w + momentum * s["v"] - lr * g if c.get("nesterov") else w + s["v"]


def ref_rmsprop(c, w, g, s, lr, t):
    rho, eps, momentum = c.get("rho", 0.9), c.get("epsilon", 1e-7), c.get("momentum", 0.0)
    s["v"] = rho * s.get("v", 0 * w) + (1 - rho) * g * g
    if c.get("centered"):
        s["a"] = rho * s.get("a", 0 * w) + (1 - rho) * g
        increment = lr * g / np.sqrt(s["v"] - s["a"] ** 2 + eps)
    else:
        increment = lr * g / np.sqrt(s["v"] + eps)
    if momentum > 0:
        s["m"] = momentum * s.get("m", 0 * w) + increment
        return w - s["m"]
    return w - increment


def ref_adam(c, w, g, s, lr, t):
    b1, b2, eps = c.get("beta_1", 0.9), c.get("beta_2", 0.999), c.get("epsilon", 1e-7)
    alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
    s["m"] = s.get("m", 0 * w) + (g - s.get("m", 0 * w)) * (1 - b1)
    s["v"] = s.get("v", 0 * w) + (g * g - s.get("v", 0 * w)) * (1 - b2)
    v = s["v"]
    if c.get("amsgrad"):
        s["vhat"] = v = np.maximum(s.get("vhat", 0 * w), s["v"])
    return w - alpha * s["m"] / (np.sqrt(v) + eps)


def ref_adagrad(c, w, g, s, lr, t):
    s["acc"] = s.get("acc", np.full_like(w, c.get("initial_accumulator_value", 0.1))) + g * g
    return w - lr * g / np.sqrt(s["acc"] + c.get("epsilon", 1e-7))


def ref_adadelta(c, w, g, s, lr, t):
    rho, eps = c.get("rho", 0.95), c.get("epsilon", 1e-7)
    s["eg"] = rho * s.get("eg", 0 * w) + (1 - rho) * g * g
    delta = -np.sqrt(s.get("ed", 0 * w) + eps) * g / np.sqrt(s["eg"] + eps)
    s["ed"] = rho * s.get("ed", 0 * w) + (1 - rho) * delta * delta
    return w + lr * delta


def ref_adamax(c, w, g, s, lr, t):
    b1, b2, eps = c.get("beta_1", 0.9), c.get("beta_2", 0.999), c.get("epsilon", 1e-7)
    s["m"] = b1 * s.get("m", 0 * w) + (1 - b1) * g
    s["u"] = np.maximum(b2 * s.get("u", 0 * w), np.abs(g))
    return w - lr / (1 - b1**t) * s["m"] / (s["u"] + eps)


def ref_nadam(c, w, g, s, lr, t):
    b1, b2, eps = c.get("beta_1", 0.9), c.get("beta_2", 0.999), c.get("epsilon", 1e-7)
    u = [b1 * (1 - 0.5 * 0.96**i) for i in range(1, t + 2)]  # u_1 .. u_{t+1}
    product_t, product_next = math.prod(u[:t]), math.prod(u)
    s["m"] = b1 * s.get("m", 0 * w) + (1 - b1) * g
    s["v"] = b2 * s.get("v", 0 * w) + (1 - b2) * g * g
    m_hat = u[t] * s["m"] / (1 - product_next) + (1 - u[t - 1]) * g / (1 - product_t)
    v_hat = s["v"] / (1 - b2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


REFERENCE = {
    "sgd": ref_sgd, "rmsprop": ref_rmsprop, "adam": ref_adam, "adamw": ref_adam, "adagrad": ref_adagrad,
    "adadelta": ref_adadelta, "adamax": ref_adamax, "nadam": ref_nadam,
}
DEFAULT_LR = {"sgd": 0.01}
DEFAULT_WEIGHT_DECAY = {"adamw": 0.004}


def reference_run(c: dict, steps=GRADS) -> list[np.ndarray]:
    kind = c["type"].lower()
    lr_spec = c.get("learning_rate", DEFAULT_LR.get(kind, 0.001))
    weight_decay = c.get("weight_decay", DEFAULT_WEIGHT_DECAY.get(kind))
    ws, states = [w.copy() for w in W0], [{} for _ in W0]
    for iteration, grads in enumerate(steps):
        grads = ref_clip(c, grads)
        lr = ref_schedule(lr_spec, iteration)
        if weight_decay is not None:
            ws = [w - w * weight_decay * lr for w in ws]
        ws = [REFERENCE[kind](c, w, g, s, lr, iteration + 1) for w, g, s in zip(ws, grads, states)]
    return ws


def make_params() -> list[torch.Tensor]:
    return [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in W0]


def torch_steps(optimizer, params, steps) -> None:
    for grads in steps:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()


def torch_run(c: dict, steps=GRADS) -> list[np.ndarray]:
    params = make_params()
    torch_steps(build_optimizer(c, params), params, steps)
    return [p.detach().numpy() for p in params]


EXPONENTIAL = {"type": "ExponentialDecay", "initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}
COSINE_WARMUP = {"type": "CosineDecay", "initial_learning_rate": 0.0, "decay_steps": 4, "alpha": 0.1, "warmup_target": 0.2, "warmup_steps": 2}
PIECEWISE = {"type": "PiecewiseConstantDecay", "boundaries": [0, 1], "values": [0.3, 0.1, 0.02]}

CASES = {
    "sgd": {"type": "sgd"},
    "sgd-momentum": {"type": "SGD", "learning_rate": 0.1, "momentum": 0.9},
    "sgd-nesterov": {"type": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
    "sgd-weight-decay-clipvalue": {"type": "sgd", "learning_rate": 0.1, "weight_decay": 0.5, "clipvalue": 0.6},
    "sgd-exponential": {"type": "sgd", "learning_rate": {**EXPONENTIAL, "staircase": True}},
    "sgd-cosine-warmup": {"type": "sgd", "momentum": 0.5, "learning_rate": COSINE_WARMUP},
    "sgd-cosine": {"type": "sgd", "learning_rate": {"type": "CosineDecay", "initial_learning_rate": 0.1, "decay_steps": 2}},
    "sgd-piecewise": {"type": "sgd", "learning_rate": PIECEWISE},
    "rmsprop": {"type": "rmsprop"},
    "rmsprop-centered-momentum": {"type": "RMSprop", "learning_rate": 0.01, "momentum": 0.5, "centered": True, "epsilon": 0.1},
    "rmsprop-momentum-clipnorm": {"type": "rmsprop", "momentum": 0.9, "rho": 0.5, "epsilon": 0.01, "clipnorm": 1.0},
    "adam": {"type": "adam"},
    "adam-amsgrad": {"type": "Adam", "learning_rate": 0.1, "amsgrad": True, "beta_2": 0.5, "epsilon": 0.1},
    "adam-global-clipnorm-schedule": {"type": "adam", "global_clipnorm": 1.0, "learning_rate": EXPONENTIAL},
    "adamw": {"type": "adamw"},
    "adamw-strong": {"type": "AdamW", "learning_rate": 0.1, "weight_decay": 0.5, "beta_1": 0.5, "clipnorm": 0.5},
    "adagrad": {"type": "adagrad"},
    "adagrad-variant": {"type": "Adagrad", "learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 0.1, "global_clipnorm": 2.0},
    "adadelta": {"type": "adadelta"},
    "adadelta-variant": {"type": "Adadelta", "learning_rate": 1.0, "rho": 0.5, "epsilon": 1e-3, "weight_decay": 0.01},
    "adamax": {"type": "adamax"},
    "adamax-variant": {"type": "Adamax", "beta_1": 0.5, "beta_2": 0.5, "epsilon": 0.1, "learning_rate": PIECEWISE},
    "nadam": {"type": "nadam"},
    "nadam-variant": {"type": "Nadam", "beta_1": 0.5, "beta_2": 0.7, "epsilon": 0.01, "learning_rate": COSINE_WARMUP, "clipvalue": 0.5},
}


@pytest.mark.parametrize("case", list(CASES))
def test_three_steps_match_keras_equations(case):
    c = CASES[case]
    got, expected = torch_run(c), reference_run(c)
    for g, e, w0 in zip(got, expected, W0):
        # compare the change, not the weights, so that small terms (epsilon, weight decay) count
        np.testing.assert_allclose(g - w0, e - w0, rtol=1e-6, atol=1e-12)
        assert not np.array_equal(g, w0)


@pytest.mark.parametrize("case", list(CASES))
def test_float32_parameters_stay_close_to_the_float64_reference(case):
    params = [torch.tensor(w, dtype=torch.float32, requires_grad=True) for w in W0]
    optimizer = build_optimizer(CASES[case], params)
    for grads in GRADS:
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g, dtype=torch.float32)
        optimizer.step()
    for p, e in zip(params, reference_run(CASES[case])):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-6, atol=1e-7)


def test_every_optimizer_is_covered():
    assert {CASES[c]["type"].lower() for c in CASES} == set(OPTIMIZER_NAMES)


# Keras's own published results (docstrings and single-step tests), as a check of the reference itself
@pytest.mark.parametrize(
    "c, expected",
    [
        ({"type": "adam", "learning_rate": 0.5}, [0.5, 1.5, 2.5, 3.5]),
        ({"type": "adamax", "learning_rate": 0.5}, [0.5, 1.5, 2.5, 3.5]),
        ({"type": "adadelta", "learning_rate": 0.5}, [0.9993, 1.9993, 2.9993, 3.9993]),
        ({"type": "nadam", "learning_rate": 0.5}, [0.4686, 1.4686, 2.4686, 3.4686]),
    ],
)
def test_keras_single_step(c, expected):
    param = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    param.grad = torch.tensor([1.0, 6.0, 7.0, 2.0])
    build_optimizer(c, [param]).step()
    np.testing.assert_allclose(param.detach().numpy(), expected, atol=1e-4)


def test_keras_rmsprop_docstring_example():
    var = torch.tensor(10.0, requires_grad=True)
    optimizer = build_optimizer({"type": "rmsprop", "learning_rate": 0.1}, [var])
    var.grad = var.detach().clone()  # d(var**2 / 2) / d(var)
    optimizer.step()
    assert var.item() == pytest.approx(9.683772, abs=1e-6)


def test_keras_weight_decay_with_zero_gradient():
    var = torch.tensor(2.0, requires_grad=True)
    for _ in range(3):  # three fresh optimizers, as Keras's test
        var.grad = torch.zeros(())
        build_optimizer({"type": "nadam", "learning_rate": 1.0, "weight_decay": 0.004}, [var]).step()
    assert var.item() == pytest.approx(1.9760959, abs=1e-6)


# ----- the torch optimizer: checkpoints, skipped parameters, learning rate ----------------------
@pytest.mark.parametrize("case", ["sgd-nesterov", "rmsprop-centered-momentum", "adam-amsgrad", "adagrad-variant", "adadelta-variant", "adamax-variant", "nadam-variant", "sgd-cosine-warmup"])
def test_state_dict_round_trip_continues_identically(case):
    c = CASES[case]
    params = make_params()
    optimizer = build_optimizer(c, params)
    torch_steps(optimizer, params, GRADS[:2])
    saved = copy.deepcopy(optimizer.state_dict())

    resumed_params = [p.detach().clone().requires_grad_(True) for p in params]
    resumed = build_optimizer(c, resumed_params)
    resumed.load_state_dict(saved)
    assert current_learning_rate(resumed) == current_learning_rate(optimizer)

    torch_steps(optimizer, params, GRADS[2:])
    torch_steps(resumed, resumed_params, GRADS[2:])
    for a, b in zip(params, resumed_params):
        assert torch.equal(a, b)
    for a, b in zip(params, reference_run(c)):
        np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-9)


def test_state_dict_survives_torch_save(tmp_path):
    params = make_params()
    optimizer = build_optimizer({"type": "nadam"}, params)
    torch_steps(optimizer, params, GRADS[:1])
    set_learning_rate(optimizer, 0.05)
    torch.save(optimizer.state_dict(), tmp_path / "opt.pt")
    resumed = build_optimizer({"type": "nadam"}, [p.detach().clone().requires_grad_(True) for p in params])
    resumed.load_state_dict(torch.load(tmp_path / "opt.pt", weights_only=True))
    assert resumed.iterations == 1
    assert current_learning_rate(resumed) == 0.05
    assert resumed.param_groups[0]["u_product"] == optimizer.param_groups[0]["u_product"]


def test_skips_parameters_without_gradient_or_frozen():
    params = make_params()
    frozen = torch.ones(3, dtype=torch.float64, requires_grad=True)
    without_grad = torch.ones(2, dtype=torch.float64, requires_grad=True)
    optimizer = build_optimizer({"type": "adam", "weight_decay": 0.1}, [*params, frozen, without_grad])
    frozen.grad = torch.ones(3, dtype=torch.float64)
    frozen.requires_grad_(False)
    torch_steps(optimizer, params, GRADS)
    assert torch.equal(frozen, torch.ones(3, dtype=torch.float64))
    assert torch.equal(without_grad, torch.ones(2, dtype=torch.float64))
    assert frozen not in optimizer.state and without_grad not in optimizer.state
    for a, b in zip(params, reference_run({"type": "adam", "weight_decay": 0.1})):
        np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-9)


def test_step_without_any_gradient_does_nothing():
    params = make_params()
    optimizer = build_optimizer("sgd", params)
    optimizer.step()
    assert optimizer.iterations == 0
    assert all(torch.equal(p, torch.tensor(w)) for p, w in zip(params, W0))


def test_gradients_are_not_modified():
    params = make_params()
    optimizer = build_optimizer({"type": "sgd", "clipvalue": 0.1}, params)
    torch_steps(optimizer, params, GRADS[:1])
    for p, g in zip(params, GRADS[0]):
        assert np.array_equal(p.grad.numpy(), g)


def test_learning_rate_helpers():
    params = make_params()
    optimizer = build_optimizer({"type": "sgd", "learning_rate": 0.1}, params)
    assert current_learning_rate(optimizer) == 0.1
    set_learning_rate(optimizer, 0.01)
    assert current_learning_rate(optimizer) == 0.01
    before = params[0].detach().clone()
    torch_steps(optimizer, params, GRADS[:1])
    np.testing.assert_allclose((params[0] - before).detach().numpy(), -0.01 * GRADS[0][0])
    with pytest.raises(ValueError):
        set_learning_rate(optimizer, -1.0)


def test_scheduled_learning_rate_follows_iterations_and_cannot_be_set():
    params = make_params()
    optimizer = build_optimizer({"type": "sgd", "learning_rate": EXPONENTIAL}, params)
    assert current_learning_rate(optimizer) == pytest.approx(0.1)  # schedule(0) at the first update
    torch_steps(optimizer, params, GRADS[:2])
    assert current_learning_rate(optimizer) == pytest.approx(0.05)  # schedule(2)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.05)
    with pytest.raises(TypeError, match="not settable"):
        set_learning_rate(optimizer, 0.01)


def test_set_learning_rate_on_plain_torch_optimizer():
    optimizer = torch.optim.SGD(make_params(), lr=0.1)
    set_learning_rate(optimizer, 0.5)
    assert current_learning_rate(optimizer) == 0.5


# ----- schedules against closed forms ----------------------------------------------------------
def test_exponential_decay_values():
    schedule = ExponentialDecay(type="ExponentialDecay", initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5)
    assert schedule.value(0) == pytest.approx(0.1)
    assert schedule.value(5) == pytest.approx(0.1 * 0.5**0.5)
    assert schedule.value(10) == pytest.approx(0.05)
    stairs = schedule.model_copy(update={"staircase": True})
    assert stairs.value(9) == pytest.approx(0.1)
    assert stairs.value(15) == pytest.approx(0.05)


def test_cosine_decay_values():
    schedule = CosineDecay(type="CosineDecay", initial_learning_rate=1.0, decay_steps=10, alpha=0.1)
    assert schedule.value(0) == pytest.approx(1.0)
    assert schedule.value(5) == pytest.approx(0.9 * 0.5 + 0.1)
    assert schedule.value(10) == pytest.approx(0.1)
    assert schedule.value(1000) == pytest.approx(0.1)
    warm = CosineDecay(type="CosineDecay", initial_learning_rate=0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    assert [warm.value(s) for s in (0, 2, 4)] == pytest.approx([0.0, 0.5, 1.0])
    assert warm.value(9) == pytest.approx(0.5)
    assert warm.value(14) == pytest.approx(0.0, abs=1e-12)
    assert warm.value(100) == pytest.approx(0.0, abs=1e-12)


def test_piecewise_constant_decay_values():
    schedule = PiecewiseConstantDecay(type="PiecewiseConstantDecay", boundaries=[2, 5], values=[1.0, 0.5, 0.1])
    assert [schedule.value(s) for s in range(8)] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1]


# ----- configs -------------------------------------------------------------------------------------
KERAS_DEFAULTS = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False},
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "adamax": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    "nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}
COMMON_DEFAULTS = {"weight_decay": None, "clipnorm": None, "clipvalue": None, "global_clipnorm": None}
CLASS_NAMES = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad",
               "adadelta": "Adadelta", "adamax": "Adamax", "nadam": "Nadam"}


class Holder(StrictModel):
    optimizer: OptimizerSpec


def validate(value):
    return Holder.model_validate({"optimizer": value}).optimizer


@pytest.mark.parametrize("name", sorted(KERAS_DEFAULTS))
def test_defaults_are_keras_defaults(name):
    config = optimizer_config(name)
    assert config.model_dump() == {"type": name, **COMMON_DEFAULTS, **KERAS_DEFAULTS[name]}


@pytest.mark.parametrize("name", sorted(CLASS_NAMES))
def test_lowercase_and_class_names_normalise(name):
    assert set(OPTIMIZER_NAMES) == set(KERAS_DEFAULTS)
    assert validate(name) == validate(CLASS_NAMES[name]) == validate({"type": CLASS_NAMES[name]})
    assert validate(CLASS_NAMES[name]).type == name


def test_unknown_name_lists_valid_names():
    for value in ("adamm", {"type": "Adamm"}, "ADAM"):
        with pytest.raises(ValidationError) as info:
            validate(value)
        (error,) = info.value.errors()
        assert error["type"] == "unknown_optimizer" and error["loc"] == ("optimizer",)
        assert "did you mean 'adam'" in error["msg"] and "'rmsprop'" in error["msg"] and "'sgd'" in error["msg"]
    with pytest.raises(SpecError, match="expected one of"):
        optimizer_config("lion")


def test_missing_type_is_explained():
    with pytest.raises(ValidationError, match="needs a 'type'"):
        validate({"learning_rate": 0.1})


def test_misspelled_key_rejected_at_its_location():
    with pytest.raises(ValidationError) as info:
        validate({"type": "adam", "beta1": 0.5})
    (error,) = info.value.errors()
    assert error["type"] == "extra_forbidden" and error["loc"] == ("optimizer", "adam", "beta1")


@pytest.mark.parametrize(
    "value",
    [
        {"type": "adam", "epsilon": "1e-7"},
        {"type": "sgd", "nesterov": 1},
        {"type": "sgd", "momentum": True},
        {"type": "sgd", "momentum": 1.5},
        {"type": "adam", "beta_2": 1.0},
        {"type": "adam", "learning_rate": 0.0},
        {"type": "adam", "learning_rate": float("nan")},
        {"type": "adam", "learning_rate": "0.1"},
        {"type": "adamw", "weight_decay": None},
        {"type": "sgd", "learning_rate": {**EXPONENTIAL, "decay_steps": 2.0}},
        {"type": "sgd", "learning_rate": {**EXPONENTIAL, "decay_steps": 0}},
        {"type": "sgd", "learning_rate": {**EXPONENTIAL, "type": "ExpDecay"}},
        {"type": "sgd", "learning_rate": {**EXPONENTIAL, "decay": 0.5}},
        {"type": "sgd", "learning_rate": {**PIECEWISE, "values": [0.3, 0.1]}},
        {"type": "sgd", "learning_rate": {**PIECEWISE, "boundaries": [1, 1]}},
        {"type": "sgd", "learning_rate": {**COSINE_WARMUP, "warmup_steps": -1}},
        3,
    ],
)
def test_wrong_types_and_values_rejected(value):
    with pytest.raises(ValidationError):
        validate(value)


def test_unknown_schedule_lists_valid_names():
    with pytest.raises(ValidationError, match="'CosineDecay', 'ExponentialDecay', 'PiecewiseConstantDecay'.*did you mean 'ExponentialDecay'"):
        validate({"type": "sgd", "learning_rate": {**EXPONENTIAL, "type": "ExponentialDecy"}})


@pytest.mark.parametrize("pair", [("clipnorm", "clipvalue"), ("clipnorm", "global_clipnorm"), ("clipvalue", "global_clipnorm")])
def test_two_clip_options_rejected(pair):
    with pytest.raises(ValidationError, match="only one of `clipnorm`, `clipvalue` and `global_clipnorm`"):
        validate({"type": "sgd", **{key: 1.0 for key in pair}})


def test_integer_learning_rate_and_schedule_accepted():
    config = validate({"type": "adadelta", "learning_rate": 1, "weight_decay": 0})
    assert config.learning_rate == 1.0 and isinstance(config.learning_rate, float)
    scheduled = validate({"type": "adam", "learning_rate": COSINE_WARMUP})
    assert isinstance(scheduled.learning_rate, CosineDecay)


def test_json_schema_accepts_a_name_or_a_mapping():
    schema = TypeAdapter(OptimizerSpec).json_schema()
    names = next(branch["enum"] for branch in schema["anyOf"] if "enum" in branch)
    assert "adam" in names and "Adam" in names and "RMSprop" in names


# ----- the registry: names, schema and implementation from one registration --------------------------
def test_every_registered_optimizer_names_its_torch_class():
    from modelspec.optimizers import OPTIMIZERS
    from modelspec.optimizers.runtime import KerasOptimizer, implementation

    for name, cls in OPTIMIZERS.items():
        assert cls.implementation == f"modelspec.optimizers.runtime:Keras{cls.__name__}"
        found = implementation(optimizer_config(name))
        assert issubclass(found, KerasOptimizer) and found.__name__ == f"Keras{cls.__name__}"


def test_a_registered_optimizer_is_built_from_its_registration(monkeypatch):
    # Adding an optimizer: a config class registered with its implementation, nothing else.
    from typing import Literal

    from modelspec.optimizers import config as optimizers
    from modelspec.optimizers.runtime import KerasSGD

    monkeypatch.setattr(optimizers, "OPTIMIZERS", dict(optimizers.OPTIMIZERS))
    monkeypatch.setattr(optimizers, "OPTIMIZER_IDENTIFIERS", dict(optimizers.OPTIMIZER_IDENTIFIERS))

    @optimizers.register_optimizer("modelspec.optimizers.runtime:KerasSGD")
    class Plain(optimizers.SGD):
        type: Literal["plain", "Plain"]

    assert optimizers.OPTIMIZER_IDENTIFIERS["Plain"] == "plain" and optimizers.OPTIMIZERS["plain"] is Plain
    optimizer = build_optimizer(Plain(type="Plain"), [torch.zeros(2, requires_grad=True)])
    assert type(optimizer) is KerasSGD and optimizer.config.type == "plain"


@pytest.mark.parametrize("reference", ["modelspec.optimizers.runtime.KerasSGD", "modelspec optimizers:KerasSGD", ":KerasSGD", "m:"])
def test_a_malformed_implementation_reference_is_refused_at_registration(reference):
    from modelspec.optimizers import register_optimizer

    with pytest.raises(ValueError, match="package.module:attribute"):
        register_optimizer(reference)


def test_a_reference_to_something_else_is_refused_when_built():
    from modelspec.implementation import resolve
    from modelspec.optimizers.runtime import implementation

    with pytest.raises(ImportError, match="no 'KerasLion'"):
        resolve("modelspec.optimizers.runtime:KerasLion")
    config = optimizer_config("sgd")
    type(config).implementation, saved = "modelspec.optimizers.runtime:build_optimizer", type(config).implementation
    try:
        with pytest.raises(TypeError, match="is not a KerasOptimizer subclass"):
            implementation(config)
    finally:
        type(config).implementation = saved


def test_configs_and_schedules_import_without_torch():
    import subprocess
    import sys

    code = "import sys, modelspec.optimizers, modelspec.optimizers.schedules; assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], check=True)
