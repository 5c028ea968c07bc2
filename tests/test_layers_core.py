"""Core, activation, normalization and regularization layers: harness cases and numerical parity with Keras.

Parameter counts come from Keras's formulas (written next to each case). The parity tests compare
the torch modules with NumPy re-implementations of Keras's equations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from modelspec.errors import ShapeError
from modelspec.layers import LayerConfig, Shape
from modelspec.nn.activations import get_activation
from modelspec.nn.build import build_layer
from modelspec.regularizers import L1L2, L2
from tests.helpers import write
from tests.layer_harness import Case, N, check_case, layer_from

CASES = [
    # core
    Case("identity", {"type": "Identity"}, [(N, 3, 4)], [(N, 3, 4)], (0, 0)),
    Case("rescaling", {"type": "Rescaling", "scale": 1 / 255}, [(N, 28, 28, 1)], [(N, 28, 28, 1)], (0, 0)),
    Case("rescaling_per_channel", {"type": "Rescaling", "scale": [0.5, 1.0, 2.0], "offset": -1.0}, [(N, 4, 3)], [(N, 4, 3)], (0, 0)),
    Case("masking", {"type": "Masking"}, [(N, 5, 8)], [(N, 5, 8)], (0, 0)),
    Case("masking_value", {"type": "Masking", "mask_value": -1.0}, [(N, None, 2)], [(N, None, 2)], (0, 0)),
    # activations
    Case("relu", {"type": "ReLU"}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("relu_all_options", {"type": "ReLU", "max_value": 6.0, "negative_slope": 0.1, "threshold": 1.0}, [(N, 4, 5)], [(N, 4, 5)], (0, 0)),
    Case("leaky_relu", {"type": "LeakyReLU"}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("leaky_relu_keras2_alpha", {"type": "LeakyReLU", "alpha": 0.2}, [(N, 3, 4)], [(N, 3, 4)], (0, 0)),
    Case("prelu", {"type": "PReLU"}, [(N, 10)], [(N, 10)], (10, 0)),  # alpha: 10
    Case("prelu_shared", {"type": "PReLU", "shared_axes": [1, 2]}, [(N, 8, 8, 16)], [(N, 8, 8, 16)], (16, 0)),  # alpha (1, 1, 16)
    Case("prelu_shared_unknown", {"type": "PReLU", "shared_axes": 1}, [(N, None, 4)], [(N, None, 4)], (4, 0)),  # alpha (1, 4)
    Case("elu", {"type": "ELU"}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("elu_alpha", {"type": "ELU", "alpha": 0.5}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("softmax", {"type": "Softmax"}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("softmax_axes", {"type": "Softmax", "axis": [1, 2]}, [(N, 3, 4, 5)], [(N, 3, 4, 5)], (0, 0)),
    # normalization
    Case("batch_norm", {"type": "BatchNormalization"}, [(N, 64)], [(N, 64)], (128, 128)),  # gamma+beta 2*64; moving mean+var 2*64
    Case("batch_norm_conv", {"type": "BatchNormalization"}, [(N, 8, 8, 16)], [(N, 8, 8, 16)], (32, 32)),  # 2*16, 2*16
    Case(
        "batch_norm_axis1_nocenter",
        {"type": "BatchNormalization", "axis": 1, "center": False, "momentum": 0.9, "epsilon": 1e-5},
        [(N, 6, None)], [(N, 6, None)], (6, 12),  # gamma 6; moving 2*6
    ),
    Case("layer_norm", {"type": "LayerNormalization"}, [(N, 10, 64)], [(N, 10, 64)], (128, 0)),  # 2*64
    Case("layer_norm_axes", {"type": "LayerNormalization", "axis": [1, 2]}, [(N, 3, 4, 5)], [(N, 3, 4, 5)], (24, 0)),  # 2*(3*4)
    Case("layer_norm_noscale", {"type": "LayerNormalization", "scale": False}, [(N, 7)], [(N, 7)], (7, 0)),  # beta 7
    Case("group_norm", {"type": "GroupNormalization", "groups": 4}, [(N, 8, 8, 16)], [(N, 8, 8, 16)], (32, 0)),  # 2*16
    Case("group_norm_default", {"type": "GroupNormalization"}, [(N, None, 64)], [(N, None, 64)], (128, 0)),  # 2*64, 32 groups
    Case("group_norm_instance", {"type": "GroupNormalization", "groups": -1, "axis": 1}, [(N, 3, 5)], [(N, 3, 5)], (6, 0)),  # 2*3
    Case("unit_norm", {"type": "UnitNormalization"}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("unit_norm_axes", {"type": "UnitNormalization", "axis": [1, 2]}, [(N, 3, 4)], [(N, 3, 4)], (0, 0)),
    # regularization
    Case("spatial_dropout1d", {"type": "SpatialDropout1D", "rate": 0.5}, [(N, 10, 8)], [(N, 10, 8)], (0, 0)),
    Case("spatial_dropout2d", {"type": "SpatialDropout2D", "rate": 0.2, "seed": 3}, [(N, 8, 8, 3)], [(N, 8, 8, 3)], (0, 0)),
    Case("spatial_dropout3d", {"type": "SpatialDropout3D", "rate": 0.2}, [(N, 4, 4, 4, 2)], [(N, 4, 4, 4, 2)], (0, 0)),
    Case("gaussian_noise", {"type": "GaussianNoise", "stddev": 0.1}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("gaussian_dropout", {"type": "GaussianDropout", "rate": 0.3}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("alpha_dropout", {"type": "AlphaDropout", "rate": 0.1}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("alpha_dropout_noise_shape", {"type": "AlphaDropout", "rate": 0.1, "noise_shape": [None, 1, 4]}, [(N, 3, 4)], [(N, 3, 4)], (0, 0)),
    Case("activity_regularization", {"type": "ActivityRegularization", "l1": 0.01}, [(N, 10)], [(N, 10)], (0, 0)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_layer(case: Case) -> None:
    check_case(case)


# ----- helpers ------------------------------------------------------------------------------
def build(config: dict, input_shape: Shape):
    layer = layer_from(config)
    return layer, build_layer(layer, [input_shape])


def apply(config: dict, x: torch.Tensor, *, training: bool = False) -> torch.Tensor:
    """The layer's whole function: its module, then its output activation when it has one."""
    layer, module = build(config, (None, *x.shape[1:]))
    module.train(training)
    out = module(x)
    activation = layer.output_activation()
    return get_activation(activation)(out) if activation else out


def randomize(module: torch.nn.Module, seed: int = 1) -> None:
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.5)


def close(got: torch.Tensor, want: np.ndarray, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(got.detach().double().numpy(), want, rtol=tol, atol=tol)


# ----- BatchNormalization --------------------------------------------------------------------
def keras_batch_norm_step(x, gamma, beta, moving_mean, moving_var, *, axis, momentum, epsilon, training, mask=None):
    """Keras's BatchNormalization call in NumPy: returns (output, new moving mean, new moving variance)."""
    axes = tuple(d for d in range(x.ndim) if d != axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    if training:
        if mask is None:
            mean, var = x.mean(axis=axes), x.var(axis=axes)  # NumPy's var is the biased one (ddof=0)
        else:
            w = np.broadcast_to(mask[..., None].astype(x.dtype), x.shape)
            count = w.sum(axis=axes) + 1e-7
            mean = (w * x).sum(axis=axes) / count
            var = (w * (x - mean.reshape(shape)) ** 2).sum(axis=axes) / count
        moving_mean = moving_mean * momentum + mean * (1 - momentum)
        moving_var = moving_var * momentum + var * (1 - momentum)
    else:
        mean, var = moving_mean, moving_var
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + epsilon) * gamma.reshape(shape) + beta.reshape(shape)
    return out, moving_mean, moving_var


@pytest.mark.parametrize("axis, shape", [(-1, (6, 5, 3)), (1, (4, 3, 5, 2))])
def test_batch_norm_matches_keras_training_and_inference(axis: int, shape: tuple[int, ...]) -> None:
    momentum, epsilon = 0.9, 1e-3
    _, module = build({"type": "BatchNormalization", "axis": axis, "momentum": momentum}, (None, *shape[1:]))
    randomize(module)
    gamma, beta = module.gamma.detach().double().numpy(), module.beta.detach().double().numpy()
    features = shape[axis]
    moving_mean, moving_var = np.zeros(features), np.ones(features)
    rng = np.random.default_rng(0)
    module.train()
    for _ in range(3):  # training steps: batch statistics, moving averages updated as Keras does
        x = rng.normal(2.0, 3.0, size=shape)
        want, moving_mean, moving_var = keras_batch_norm_step(
            x, gamma, beta, moving_mean, moving_var, axis=axis % len(shape), momentum=momentum, epsilon=epsilon, training=True
        )
        close(module(torch.tensor(x, dtype=torch.float32)), want)
        close(module.moving_mean, moving_mean)
        close(module.moving_variance, moving_var)
    module.eval()  # inference: the moving statistics, no update
    x = rng.normal(2.0, 3.0, size=shape)
    want, _, _ = keras_batch_norm_step(x, gamma, beta, moving_mean, moving_var, axis=axis % len(shape), momentum=momentum, epsilon=epsilon, training=False)
    close(module(torch.tensor(x, dtype=torch.float32)), want)
    close(module.moving_variance, moving_var)


def test_batch_norm_stores_the_biased_variance_unlike_torch() -> None:
    _, module = build({"type": "BatchNormalization", "momentum": 0.0}, (None, 2))
    x = torch.tensor([[0.0, 1.0], [2.0, 5.0]])
    module.train()
    module(x)
    torch.testing.assert_close(module.moving_variance, torch.tensor([1.0, 4.0]))  # torch's BatchNorm1d would store 2 and 8
    assert set(module.state_dict()) == {"gamma", "beta", "moving_mean", "moving_variance"}
    assert {name for name, _ in module.named_buffers()} == {"moving_mean", "moving_variance"}


def test_batch_norm_masked_statistics_match_keras() -> None:
    _, module = build({"type": "BatchNormalization", "momentum": 0.5}, (None, 4, 3))
    randomize(module)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 3))
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    module.train()
    got = module(torch.tensor(x, dtype=torch.float32), mask=torch.tensor(mask))
    want, mean, var = keras_batch_norm_step(
        x, module.gamma.detach().double().numpy(), module.beta.detach().double().numpy(), np.zeros(3), np.ones(3),
        axis=2, momentum=0.5, epsilon=1e-3, training=True, mask=mask,
    )
    close(got, want)
    close(module.moving_mean, mean)
    close(module.moving_variance, var)


def test_frozen_batch_norm_uses_the_moving_statistics_in_training() -> None:
    _, module = build({"type": "BatchNormalization", "trainable": False}, (None, 3))
    module.train()
    x = torch.randn(8, 3) * 4 + 1
    torch.testing.assert_close(module(x), x / math.sqrt(1 + 1e-3))
    assert torch.equal(module.moving_mean, torch.zeros(3)) and torch.equal(module.moving_variance, torch.ones(3))


# ----- LayerNormalization, GroupNormalization, UnitNormalization -----------------------------
def numpy_layer_norm(x, gamma, beta, axes, epsilon=1e-3):
    """Keras: per sample, mean and biased variance over `axes`; gamma/beta already broadcastable."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta


@pytest.mark.parametrize(
    "axis, shape, layout",
    [
        (-1, (3, 4, 6), lambda w: w),
        ([1, 2], (3, 4, 5, 2), lambda w: w[None, :, :, None]),
        ([2, 1], (3, 4, 5, 2), lambda w: w.T[None, :, :, None]),  # gamma is (5, 4): in axis order
    ],
)
def test_layer_norm_matches_keras(axis, shape, layout) -> None:
    _, module = build({"type": "LayerNormalization", "axis": axis}, (None, *shape[1:]))
    randomize(module)
    x = np.random.default_rng(2).normal(1.0, 2.0, size=shape)
    axes = tuple(a % len(shape) for a in ([axis] if isinstance(axis, int) else axis))
    gamma, beta = (layout(p.detach().double().numpy()) for p in (module.gamma, module.beta))
    close(module(torch.tensor(x, dtype=torch.float32)), numpy_layer_norm(x, gamma, beta, axes))


@pytest.mark.parametrize("groups, axis, shape", [(2, -1, (2, 3, 4, 6)), (3, 1, (2, 6, 5)), (-1, -1, (2, 5, 4))])
def test_group_norm_matches_numpy(groups: int, axis: int, shape: tuple[int, ...]) -> None:
    _, module = build({"type": "GroupNormalization", "groups": groups, "axis": axis, "epsilon": 1e-5}, (None, *shape[1:]))
    randomize(module)
    x = np.random.default_rng(3).normal(size=shape)
    a = axis % len(shape)
    channels = shape[a]
    g = channels if groups == -1 else groups
    moved = np.moveaxis(x, a, -1)  # (batch, ..., channels)
    grouped = moved.reshape(*moved.shape[:-1], g, channels // g)
    reduce = tuple(range(1, grouped.ndim - 2)) + (grouped.ndim - 1,)
    mean, var = grouped.mean(axis=reduce, keepdims=True), grouped.var(axis=reduce, keepdims=True)
    normalized = ((grouped - mean) / np.sqrt(var + 1e-5)).reshape(moved.shape)
    want = np.moveaxis(normalized * module.gamma.detach().double().numpy() + module.beta.detach().double().numpy(), -1, a)
    close(module(torch.tensor(x, dtype=torch.float32)), want)


def test_unit_normalization_matches_keras() -> None:
    x = np.random.default_rng(4).normal(size=(2, 3, 4))
    got = apply({"type": "UnitNormalization", "axis": [1, 2]}, torch.tensor(x, dtype=torch.float32))
    close(got, x / np.sqrt(np.maximum((x**2).sum(axis=(1, 2), keepdims=True), 1e-12)))
    assert torch.equal(apply({"type": "UnitNormalization"}, torch.zeros(1, 3)), torch.zeros(1, 3))


# ----- activation layers --------------------------------------------------------------------
def keras_relu_formula(x, max_value=None, negative_slope=0.0, threshold=0.0):
    """Keras's documented formula (inputs avoid x == threshold, where Keras's code gives 0)."""
    top = np.inf if max_value is None else max_value
    return np.where(x >= top, top, np.where(x >= threshold, x, negative_slope * (x - threshold)))


@pytest.mark.parametrize(
    "options, named",
    [
        ({}, "relu"),
        ({"max_value": 6.0}, "relu6"),
        ({"negative_slope": 0.2}, "leaky_relu"),
        ({"max_value": 2.0}, None),
        ({"negative_slope": 0.5}, None),
        ({"threshold": 1.0}, None),
        ({"max_value": 3.0, "negative_slope": 0.1, "threshold": 0.5}, None),
    ],
)
def test_relu_variants_match_the_formula(options: dict, named: str | None) -> None:
    config = {"type": "ReLU", **options}
    assert layer_from(config).output_activation() == named
    x = np.linspace(-4.0, 8.0, 97) + 0.01  # no point lands on a threshold or ceiling
    close(apply(config, torch.tensor(x[None], dtype=torch.float32))[0], keras_relu_formula(x, **options))


def test_relu_keras_examples() -> None:
    x = torch.tensor([[-10.0, -5.0, 0.0, 5.0, 10.0]])
    assert apply({"type": "ReLU", "max_value": 10.0, "negative_slope": 0.5}, x).tolist() == [[-5.0, -2.5, 0.0, 5.0, 10.0]]
    assert apply({"type": "ReLU", "threshold": 5.0}, x).tolist() == [[0.0, 0.0, 0.0, 0.0, 10.0]]  # x == threshold gives 0
    assert apply({"type": "ReLU", "max_value": 5.0}, x).tolist() == [[0.0, 0.0, 0.0, 5.0, 5.0]]
    x4 = torch.tensor([[-3.0, -1.0, 1.0, 2.0]])
    assert apply({"type": "ReLU", "threshold": 1.5}, x4).tolist() == [[0.0, 0.0, 0.0, 2.0]]
    # a threshold above the ceiling: Keras's code (not its docstring formula) gives the slope below the threshold
    got = apply({"type": "ReLU", "max_value": 0.5, "negative_slope": 0.25, "threshold": 1.5}, torch.tensor([[-1.0, 1.0, 2.0]]))
    assert got.tolist() == [[-0.625, -0.125, 0.5]]


@pytest.mark.parametrize("config, slope", [({}, 0.3), ({"negative_slope": 0.5}, 0.5), ({"alpha": 0.2}, 0.2), ({"negative_slope": 0.0}, 0.0)])
def test_leaky_relu(config: dict, slope: float) -> None:
    x = torch.tensor([[-10.0, -5.0, 0.0, 5.0, 10.0]])
    close(apply({"type": "LeakyReLU", **config}, x), np.array([[-10 * slope, -5 * slope, 0.0, 5.0, 10.0]]))


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_elu(alpha: float) -> None:
    x = np.linspace(-3, 3, 13)
    close(apply({"type": "ELU", "alpha": alpha}, torch.tensor(x[None], dtype=torch.float32))[0], np.where(x > 0, x, alpha * (np.exp(x) - 1)))


@pytest.mark.parametrize("axis, reduce", [(-1, (2,)), (1, (1,)), ([1, 2], (1, 2))])
def test_softmax_axes(axis, reduce) -> None:
    x = np.random.default_rng(5).normal(size=(2, 3, 4))
    e = np.exp(x - x.max(axis=reduce, keepdims=True))
    close(apply({"type": "Softmax", "axis": axis}, torch.tensor(x, dtype=torch.float32)), e / e.sum(axis=reduce, keepdims=True))


def test_prelu_shared_axes_match_the_formula() -> None:
    _, module = build({"type": "PReLU", "shared_axes": [1, 2]}, (None, 3, 4, 5))
    assert tuple(module.alpha.shape) == (1, 1, 5) and torch.equal(module.alpha, torch.zeros(1, 1, 5))  # Keras: zeros
    randomize(module)
    x = np.random.default_rng(6).normal(size=(2, 3, 4, 5))
    alpha = module.alpha.detach().double().numpy()
    close(module(torch.tensor(x, dtype=torch.float32)), np.where(x >= 0, x, alpha * x))
    _, unshared = build({"type": "PReLU", "alpha_initializer": "ones"}, (None, 3, 4, 5))
    assert tuple(unshared.alpha.shape) == (3, 4, 5)
    xt = torch.tensor(x, dtype=torch.float32)
    torch.testing.assert_close(unshared(xt), xt)  # alpha 1: the identity


# ----- core ---------------------------------------------------------------------------------
def test_masking_zeroes_the_masked_steps_and_returns_the_mask() -> None:
    layer, module = build({"type": "Masking", "mask_value": -1.0}, (None, 3, 2))
    assert layer.produces_mask()
    x = torch.tensor([[[1.0, -1.0], [-1.0, -1.0], [0.0, 2.0]]])
    out, mask = module(x)
    assert mask.tolist() == [[True, False, True]]
    assert out.tolist() == [[[1.0, -1.0], [0.0, 0.0], [0.0, 2.0]]]
    _, default = build({"type": "Masking"}, (None, 2, 2))
    assert default(torch.tensor([[[0.0, 0.0], [0.0, 3.0]]]))[1].tolist() == [[False, True]]


def test_rescaling_casts_integers_and_broadcasts_per_channel() -> None:
    assert apply({"type": "Rescaling", "scale": 1 / 127.5, "offset": -1.0}, torch.tensor([[0, 255]], dtype=torch.uint8))[0].tolist() == pytest.approx([-1.0, 1.0])
    got = apply({"type": "Rescaling", "scale": [1.0, 2.0], "offset": [0.0, 1.0]}, torch.ones(1, 2, 2))
    assert got.tolist() == [[[1.0, 3.0], [1.0, 3.0]]]


def test_identity_and_activity_regularization_pass_through() -> None:
    x = torch.randn(2, 3)
    assert torch.equal(apply({"type": "Identity"}, x), x)
    assert torch.equal(apply({"type": "ActivityRegularization", "l2": 0.5}, x, training=True), x)
    layer = layer_from({"type": "ActivityRegularization", "l1": 0.01, "l2": 0.5})
    assert layer.activity_penalty() == L1L2(type="l1_l2", l1=0.01, l2=0.5)
    assert layer_from({"type": "ActivityRegularization"}).activity_penalty() == L1L2(type="l1_l2", l1=0.0, l2=0.0)


# ----- noise layers -------------------------------------------------------------------------
NOISE = [
    {"type": "GaussianNoise", "stddev": 0.5},
    {"type": "GaussianDropout", "rate": 0.4},
    {"type": "AlphaDropout", "rate": 0.3},
    {"type": "SpatialDropout1D", "rate": 0.5},
]


@pytest.mark.parametrize("config", NOISE, ids=lambda c: c["type"])
def test_noise_layers_are_the_identity_at_inference(config: dict) -> None:
    x = torch.randn(4, 5, 6)
    assert torch.equal(apply(config, x, training=False), x)
    assert not torch.equal(apply(config, x, training=True), x)


def test_gaussian_noise_statistics() -> None:
    torch.manual_seed(0)
    noise = apply({"type": "GaussianNoise", "stddev": 0.5}, torch.zeros(200, 500), training=True)
    assert abs(noise.mean().item()) < 0.01 and noise.std().item() == pytest.approx(0.5, rel=0.02)


def test_gaussian_dropout_statistics() -> None:
    torch.manual_seed(0)
    factor = apply({"type": "GaussianDropout", "rate": 0.2}, torch.ones(200, 500), training=True)
    assert factor.mean().item() == pytest.approx(1.0, abs=0.01)
    assert factor.std().item() == pytest.approx(math.sqrt(0.2 / 0.8), rel=0.02)


def test_alpha_dropout_keeps_mean_and_variance_of_a_unit_normal() -> None:
    torch.manual_seed(0)
    rate = 0.2
    x = torch.randn(200, 500)
    out = apply({"type": "AlphaDropout", "rate": rate}, x, training=True)
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5
    b = -a * alpha_p * rate
    dropped = torch.isclose(out, torch.full_like(out, a * alpha_p + b))
    assert dropped.float().mean().item() == pytest.approx(rate, abs=0.01)
    torch.testing.assert_close(out[~dropped], a * x[~dropped] + b)
    assert abs(out.mean().item()) < 0.02 and out.var().item() == pytest.approx(1.0, abs=0.03)


def test_alpha_dropout_noise_shape_shares_the_mask() -> None:
    torch.manual_seed(0)
    out = apply({"type": "AlphaDropout", "rate": 0.5, "noise_shape": [None, 1, 4]}, torch.zeros(8, 6, 4), training=True)
    assert torch.equal(out, out[:, :1].expand_as(out))  # the same mask for every step


@pytest.mark.parametrize("kind, shape", [("1D", (50, 7, 40)), ("2D", (50, 3, 4, 40)), ("3D", (50, 2, 3, 2, 40))])
def test_spatial_dropout_drops_whole_channels(kind: str, shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    rate = 0.3
    x = torch.rand(shape) + 1.0
    out = apply({"type": f"SpatialDropout{kind}", "rate": rate}, x, training=True)
    spatial = tuple(range(1, len(shape) - 1))
    dropped = (out == 0).all(dim=spatial)  # (batch, channels)
    kept = torch.isclose(out, x / (1 - rate)).all(dim=spatial)
    assert bool((dropped | kept).all())
    assert dropped.float().mean().item() == pytest.approx(rate, abs=0.05)


# ----- regularizers with Keras's weight names -----------------------------------------------
def test_named_weight_regularizers_and_constraints() -> None:
    bn = layer_from({"type": "BatchNormalization", "gamma_regularizer": "l2", "beta_constraint": "non_neg", "scale": True})
    assert bn.weight_penalties() == [("gamma", L2(type="l2", l2=0.01))]
    assert [name for name, _ in bn.weight_constraints()] == ["beta"]
    no_gamma = layer_from({"type": "LayerNormalization", "scale": False, "gamma_regularizer": "l2", "beta_regularizer": "l1"})
    assert [name for name, _ in no_gamma.weight_penalties()] == ["beta"]  # no gamma weight to penalize
    prelu = layer_from({"type": "PReLU", "alpha_regularizer": {"type": "l1", "l1": 0.1}, "alpha_constraint": "non_neg"})
    assert [name for name, _ in prelu.weight_penalties()] == ["alpha"] and [n for n, _ in prelu.weight_constraints()] == ["alpha"]
    for config in ({"type": "BatchNormalization", "kernel_regularizer": "l2"}, {"type": "PReLU", "bias_constraint": "non_neg"}):
        with pytest.raises(ValidationError, match="extra_forbidden|Extra inputs"):
            layer_from(config)


SPEC = """
name: core_layers
inputs: {x: {shape: [4]}}
layers:
  - {name: scaled, type: Rescaling, scale: 2.0, inputs: x}
  - {name: norm, type: BatchNormalization, gamma_regularizer: {type: l2, l2: 0.5}}
  - {name: act, type: PReLU, alpha_initializer: ones, alpha_regularizer: {type: l1, l1: 0.25}}
  - {name: penalty, type: ActivityRegularization, l1: 0.125}
  - {name: out, type: Dense, units: 2}
outputs: out
compile: {optimizer: sgd, loss: mse}
"""


def test_engine_counts_and_penalties(tmp_path) -> None:
    from modelspec.checked import check_spec
    from modelspec.training.engine import Engine

    prepared = check_spec(write(tmp_path, SPEC))
    assert (prepared.graph.trainable_params, prepared.graph.non_trainable_params) == (8 + 4 + 10, 8)  # BN 2*4 (+2*4), PReLU 4, Dense 4*2+2
    e = Engine(prepared.graph, prepared.plan, device="cpu", seed=0)
    x, y = torch.rand(5, 4), torch.rand(5, 2)
    e.test_step([x], {"out": y}, None, 5)
    m = e.module
    with torch.no_grad():
        h = (2 * x - m.norm.moving_mean) / torch.sqrt(m.norm.moving_variance + 1e-3) * m.norm.gamma + m.norm.beta
        h = torch.relu(h) - m.act.alpha * torch.relu(-h)
        mse = ((h @ m.out.kernel.T + m.out.bias - y) ** 2).mean()
        penalties = 0.5 * m.norm.gamma.square().sum() + 0.25 * m.act.alpha.abs().sum() + 0.125 * h.abs().sum()
    assert e.logs()["loss"] == pytest.approx(float(mse + penalties), rel=1e-5)
    before = m.norm.moving_mean.clone()
    e.train_step([x], {"out": y}, None, 5)
    torch.testing.assert_close(m.norm.moving_mean, before * 0.99 + (2 * x).mean(0) * 0.01)


# ----- shape and argument errors ------------------------------------------------------------
@pytest.mark.parametrize(
    "config, inputs, quoted",
    [
        ({"type": "BatchNormalization"}, [(None, None)], ["known size", "(None, None)"]),
        ({"type": "BatchNormalization", "axis": 3}, [(None, 4, 5)], ["axis 3", "(None, 4, 5)"]),
        ({"type": "LayerNormalization", "axis": 0}, [(None, 4)], ["batch axis", "(None, 4)"]),
        ({"type": "LayerNormalization", "axis": [1, -2]}, [(None, 4, 5)], ["same axis twice", "(None, 4, 5)"]),
        ({"type": "GroupNormalization", "groups": 3}, [(None, 8, 4)], ["groups=3", "4 channels", "(None, 8, 4)"]),
        ({"type": "GroupNormalization"}, [(None, 8, 16)], ["groups=32", "16 channels"]),
        ({"type": "PReLU", "shared_axes": [3]}, [(None, 4, 5)], ["shared_axes", "(None, 4, 5)"]),
        ({"type": "PReLU"}, [(None, None, 5)], ["known sizes", "(None, None, 5)"]),
        ({"type": "SpatialDropout2D", "rate": 0.1}, [(None, 8, 3)], ["rank 4", "(None, 8, 3)"]),
        ({"type": "SpatialDropout1D", "rate": 0.1}, [(None, 8, 8, 3)], ["rank 3", "(None, 8, 8, 3)"]),
        ({"type": "Softmax", "axis": 2}, [(None, 5)], ["axis 2", "(None, 5)"]),
        ({"type": "Rescaling", "scale": [1.0, 2.0]}, [(None, 3)], ["2 values", "(None, 3)"]),
        ({"type": "AlphaDropout", "rate": 0.1, "noise_shape": [None, 2]}, [(None, 3)], ["(None, 2)", "(None, 3)"]),
        ({"type": "Masking"}, [(None,)], ["rank 2", "(None,)"]),
    ],
)
def test_shape_errors_quote_the_shapes(config: dict, inputs: list[Shape], quoted: list[str]) -> None:
    layer: LayerConfig = layer_from(config)
    with pytest.raises(ShapeError) as raised:
        layer.output_shapes(inputs)
        layer.weights(inputs)
    for text in quoted:
        assert text in str(raised.value)


@pytest.mark.parametrize(
    "config",
    [
        {"type": "ReLU", "max_value": -1.0},
        {"type": "ReLU", "negative_slope": -0.1},
        {"type": "ReLU", "threshold": -1.0},
        {"type": "LeakyReLU", "negative_slope": -0.3},
        {"type": "LeakyReLU", "negative_slope": 0.1, "alpha": 0.2},
        {"type": "BatchNormalization", "momentum": 1.5},
        {"type": "BatchNormalization", "axis": [1, 2]},
        {"type": "BatchNormalization", "synchronized": True},
        {"type": "LayerNormalization", "epsilon": 0.0},
        {"type": "LayerNormalization", "axis": []},
        {"type": "GroupNormalization", "groups": 0},
        {"type": "GaussianNoise", "stddev": -0.1},
        {"type": "GaussianDropout", "rate": 1.0},
        {"type": "AlphaDropout"},
        {"type": "SpatialDropout2D", "rate": 0.1, "data_format": "channels_first"},
        {"type": "ActivityRegularization", "l1": -1.0},
        {"type": "PReLU", "shared_axes": [0]},
        {"type": "Masking", "mask_value": "0"},
        {"type": "Rescaling"},
    ],
)
def test_argument_validation(config: dict) -> None:
    with pytest.raises(ValidationError):
        layer_from(config)


MASKED = """
name: masked
inputs: {x: {shape: [4, 3]}}
layers:
  - {name: mask, type: Masking, inputs: x}
  - {name: norm, type: BatchNormalization, momentum: 0.0}
  - {name: act, type: LeakyReLU}
  - {name: out, type: Dense, units: 2}
outputs: out
compile: {optimizer: sgd, loss: mse}
"""


def test_masking_mask_reaches_batch_norm_in_a_compiled_graph(tmp_path) -> None:
    from modelspec.checked import check_spec
    from modelspec.torch_build import build_module

    module = build_module(check_spec(write(tmp_path, MASKED)).graph)
    x = torch.randn(2, 4, 3) + 5.0
    x[0, 2:] = 0.0  # padding steps: masked
    module.train()
    module(x)
    kept = torch.cat([x[0, :2], x[1]])
    torch.testing.assert_close(module.norm.moving_mean, kept.mean(0), atol=1e-5, rtol=1e-5)  # momentum 0: the batch mean
    torch.testing.assert_close(module.norm.moving_variance, kept.var(0, correction=0), atol=1e-5, rtol=1e-5)
