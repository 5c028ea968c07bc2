"""Layer harness: one table of cases, one test per case, run over every registered layer type.

Each case gives a layer config, its input shapes, the output shapes and (trainable, non-trainable)
parameter counts expected from Keras's documented formulas. The harness checks the config round
trip, the shape rule, weights() against the built torch module, a forward pass whose outputs have
the inferred shapes, and a backward pass reaching every parameter.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from modelspec.errors import ShapeError
from modelspec.layers import LayerConfig, Shape
from modelspec.nn.build import build_layer
from tests.layer_harness import Case, N, check_case, layer_from

CASES = [
    # core
    Case("dense", {"type": "Dense", "units": 64}, [(N, 784)], [(N, 64)], (50_240, 0)),  # 784*64 + 64
    Case("dense_3d_nobias", {"type": "Dense", "units": 4, "use_bias": False, "activation": "relu"}, [(N, 5, 8)], [(N, 5, 4)], (32, 0)),
    Case("activation", {"type": "Activation", "activation": "relu"}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("activation_softmax", {"type": "Activation", "activation": "softmax"}, [(N, 3, 5)], [(N, 3, 5)], (0, 0)),
    Case("embedding", {"type": "Embedding", "input_dim": 10_000, "output_dim": 512}, [(N, 20)], [(N, 20, 512)], (5_120_000, 0), integer_input=10_000),
    Case("embedding_2d", {"type": "Embedding", "input_dim": 50, "output_dim": 8, "mask_zero": True}, [(N, None, 3)], [(N, None, 3, 8)], (400, 0), integer_input=50),
    # regularization
    Case("dropout", {"type": "Dropout", "rate": 0.5}, [(N, 10)], [(N, 10)], (0, 0)),
    Case("dropout_noise_shape", {"type": "Dropout", "rate": 0.3, "noise_shape": [None, 1, 8], "seed": 1}, [(N, 5, 8)], [(N, 5, 8)], (0, 0)),
    # reshaping
    Case("flatten", {"type": "Flatten"}, [(N, 7, 7, 64)], [(N, 3136)], (0, 0)),
    Case("flatten_unknown", {"type": "Flatten"}, [(N, None, 4)], [(N, None)], (0, 0)),
    Case("reshape", {"type": "Reshape", "target_shape": [28, 28, 1]}, [(N, 784)], [(N, 28, 28, 1)], (0, 0)),
    Case("reshape_infer", {"type": "Reshape", "target_shape": [-1, 2, 2]}, [(N, 12)], [(N, 3, 2, 2)], (0, 0)),
    Case("reshape_unknown", {"type": "Reshape", "target_shape": [-1, 4]}, [(N, None, 8)], [(N, None, 4)], (0, 0)),
    # recurrent
    Case("lstm", {"type": "LSTM", "units": 32}, [(N, 10, 16)], [(N, 32)], (6_272, 0)),  # 4*(32*(16+32)+32)
    Case(
        "lstm_sequences_state",
        {"type": "LSTM", "units": 4, "return_sequences": True, "return_state": True},
        [(N, None, 8)],
        [(N, None, 4), (N, 4), (N, 4)],
        (208, 0),  # 4*(4*(8+4)+4)
    ),
    Case(
        "lstm_loop_backwards_nobias",
        {"type": "LSTM", "units": 3, "recurrent_activation": "hard_sigmoid", "go_backwards": True, "use_bias": False},
        [(N, 4, 5)],
        [(N, 3)],
        (96, 0),  # 4*3*(5+3)
    ),
    Case("lstm_stateful", {"type": "LSTM", "units": 6, "stateful": True, "return_sequences": True}, [(2, 5, 3)], [(2, 5, 6)], (240, 0)),
    Case("time_distributed", {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 8}}, [(N, 20, 16)], [(N, 20, 8)], (136, 0)),
    # convolution and pooling
    Case("conv2d", {"type": "Conv2D", "filters": 16, "kernel_size": 3}, [(N, 28, 28, 3)], [(N, 26, 26, 16)], (448, 0)),  # 3*3*3*16 + 16
    Case(
        "conv2d_same_strided",
        {"type": "Conv2D", "filters": 4, "kernel_size": [3, 4], "strides": 2, "padding": "same", "activation": "relu"},
        [(N, 9, 7, 2)],
        [(N, 5, 4, 4)],
        (100, 0),  # 3*4*2*4 + 4
    ),
    Case(
        "conv2d_groups_dilated",
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "dilation_rate": [2, 1], "groups": 2, "use_bias": False},
        [(N, 10, None, 6)],
        [(N, 6, None, 4)],
        (108, 0),  # 3*3*(6/2)*4
    ),
    Case("gap2d", {"type": "GlobalAveragePooling2D"}, [(N, 7, 7, 512)], [(N, 512)], (0, 0)),
    Case("gap2d_keepdims", {"type": "GlobalAveragePooling2D", "keepdims": True}, [(N, None, None, 3)], [(N, 1, 1, 3)], (0, 0)),
    # merging
    Case("concatenate", {"type": "Concatenate"}, [(N, 10), (N, 4)], [(N, 14)], (0, 0)),
    Case("concatenate_axis1", {"type": "Concatenate", "axis": 1}, [(N, 3, 8), (N, 5, None), (N, 1, 8)], [(N, 9, 8)], (0, 0),
         concrete=[(2, 3, 8), (2, 5, 8), (2, 1, 8)]),
    Case("concatenate_single", {"type": "Concatenate"}, [(N, 6)], [(N, 6)], (0, 0)),
    Case("add", {"type": "Add"}, [(N, 10), (N, 10)], [(N, 10)], (0, 0)),
    Case("add_broadcast", {"type": "Add"}, [(N, 4), (N, 3, 4), (N, 3, 1)], [(N, 3, 4)], (0, 0)),
    Case("add_unknown", {"type": "Add"}, [(N, None, 4), (N, 3, 4)], [(N, None, 4)], (0, 0), concrete=[(2, 3, 4), (2, 3, 4)]),
]

#: Registered types the table cannot cover, with where they are tested instead.

@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_layer(case: Case) -> None:
    check_case(case)


# ----- LSTM ---------------------------------------------------------------------------------
def build_lstm(inputs: list[Shape], **config):
    return build_layer(layer_from({"type": "LSTM", **config}), inputs)


def reference_lstm(x, kernel, recurrent_kernel, bias, act=torch.tanh, rec=torch.sigmoid, h=None, c=None):
    """Keras's equations in Keras's layout (kernel (in, 4u), gates i, f, c, o), one step at a time."""
    units = recurrent_kernel.shape[0]
    h = x.new_zeros(x.shape[0], units) if h is None else h
    c = x.new_zeros(x.shape[0], units) if c is None else c
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        zi, zf, zc, zo = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = rec(zf) * c + rec(zi) * act(zc)
        h = rec(zo) * act(c)
        outputs.append(h)
    return torch.stack(outputs, 1), h, c


def randomize(module) -> None:
    torch.manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.3)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("recurrent_activation", ["sigmoid", "hard_sigmoid"])
def test_lstm_matches_keras_equations(go_backwards: bool, recurrent_activation: str) -> None:
    module = build_lstm(
        [(None, 6, 5)], units=4, return_sequences=True, return_state=True,
        go_backwards=go_backwards, recurrent_activation=recurrent_activation,
    )
    assert module.fused == (recurrent_activation == "sigmoid")
    randomize(module)
    x = torch.randn(3, 6, 5)
    sequence, h, c = module(x)
    from modelspec.nn.activations import get_activation

    expected = reference_lstm(
        x.flip(1) if go_backwards else x, module.kernel.T, module.recurrent_kernel.T, module.bias,
        rec=get_activation(recurrent_activation),
    )
    for got, want in zip((sequence, h, c), expected):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_lstm_python_loop_equals_fused_kernel() -> None:
    module = build_lstm([(None, 7, 3)], units=5)
    randomize(module)
    x = torch.randn(2, 7, 3)
    zeros = torch.zeros(2, 5)
    loop = module.loop(x, zeros, zeros)
    fused = module._fused(x, zeros, zeros)
    for a, b in zip(loop, fused):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_lstm_forget_bias_is_one() -> None:
    module = build_lstm([(None, 4, 3)], units=5)
    assert torch.equal(module.bias[5:10], torch.ones(5))
    assert torch.equal(torch.cat([module.bias[:5], module.bias[10:]]), torch.zeros(15))
    assert torch.equal(build_lstm([(None, 4, 3)], units=5, unit_forget_bias=False).bias, torch.zeros(20))
    assert module.state_dict().keys() == {"kernel", "recurrent_kernel", "bias"}  # the zero second bias is not saved


def test_stateful_lstm_carries_state_and_trains() -> None:
    stateful = build_lstm([(2, 4, 3)], units=5, stateful=True, return_sequences=True)
    plain = build_lstm([(2, 8, 3)], units=5, return_sequences=True)
    plain.load_state_dict(stateful.state_dict())
    x = torch.randn(2, 8, 3)
    first, second = stateful(x[:, :4]), stateful(x[:, 4:])
    whole = plain(x)
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-6, rtol=1e-5)

    stateful.reset_states()
    torch.testing.assert_close(stateful(x[:, :4]), first)

    optimizer = torch.optim.SGD(stateful.parameters(), lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        stateful(torch.randn(2, 4, 3)).pow(2).mean().backward()
        optimizer.step()
    assert stateful.states is not None and not stateful.states[0].requires_grad


def test_lstm_declarations_and_shape_errors() -> None:
    def make(**config) -> LayerConfig:
        return layer_from({"type": "LSTM", "units": 2, **config})

    assert make(input_dim=8, input_length=10).declared_input_shape() == (None, 10, 8)
    assert make(input_dim=8).declared_input_shape() == (None, None, 8)
    assert make(input_dim=8, batch_size=4).declared_input_shape() == (4, None, 8)
    with pytest.raises(ShapeError, match="input_dim"):
        make(input_length=10).declared_input_shape()
    with pytest.raises(ShapeError, match=r"fixed batch size.*\(None, 5, 3\)"):
        make(stateful=True).output_shapes([(None, 5, 3)])
    with pytest.raises(ShapeError, match=r"rank 3.*\(None, 5\)"):
        make().output_shapes([(None, 5)])
    with pytest.raises(ShapeError, match=r"feature size.*\(None, 5, None\)"):
        make().output_shapes([(None, 5, None)])


def test_embedding_input_length_declaration_and_float_input() -> None:
    layer = layer_from({"type": "Embedding", "input_dim": 10, "output_dim": 3, "input_length": 7})
    assert layer.declared_input_shape() == (None, 7)
    module = build_layer(layer, [(None, 7)])
    assert module(torch.tensor([[1.0, 2.0]])).shape == (1, 2, 3)
    assert module.embeddings.abs().max() <= 0.05


# ----- Conv2D -------------------------------------------------------------------------------
def test_conv2d_same_strided_equals_hand_padded_conv() -> None:
    layer = layer_from(
        {"type": "Conv2D", "filters": 3, "kernel_size": [3, 4], "strides": 2, "padding": "same"}
    )
    module = build_layer(layer, [(None, 8, 7, 2)])
    x = torch.randn(2, 8, 7, 2)
    # Keras/TF: H: out 4, pad total (4-1)*2+3-8 = 1 -> (0, 1); W: out 4, pad total (4-1)*2+4-7 = 3 -> (1, 2)
    padded = F.pad(x.permute(0, 3, 1, 2), (1, 2, 0, 1))
    expected = F.conv2d(padded, module.kernel, module.bias, stride=2).permute(0, 2, 3, 1)
    torch.testing.assert_close(module(x), expected)
    assert layer.output_shapes([(None, 8, 7, 2)]) == [(None, 4, 4, 3)]


def test_conv2d_argument_errors() -> None:
    with pytest.raises(ValidationError, match="dilation_rate"):
        layer_from({"type": "Conv2D", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2})
    with pytest.raises(ValidationError, match="groups"):
        layer_from({"type": "Conv2D", "filters": 3, "kernel_size": 3, "groups": 2})
    with pytest.raises(ValidationError):
        layer_from({"type": "Conv2D", "filters": 3, "kernel_size": [3, 3, 3]})
    conv = layer_from({"type": "Conv2D", "filters": 2, "kernel_size": 5})
    with pytest.raises(ShapeError, match=r"\(None, 3, 3, 1\)"):
        conv.output_shapes([(None, 3, 3, 1)])
    with pytest.raises(ShapeError, match=r"channel.*\(None, 8, 8, None\)"):
        conv.output_shapes([(None, 8, 8, None)])


# ----- shape errors name the shapes ---------------------------------------------------------
def layer(config: dict) -> LayerConfig:
    return layer_from(config)


@pytest.mark.parametrize(
    "config, inputs, quoted",
    [
        ({"type": "Add"}, [(None, 10), (None, 4, 4)], ["sizes 10 and 4 differ on the last axis"]),
        ({"type": "Add"}, [(2, 10), (3, 10)], ["batch sizes 2 and 3 differ"]),
        ({"type": "Concatenate"}, [(None, 3, 4), (None, 5, 6)], ["sizes 3 and 5 differ on axis 1"]),
        ({"type": "Concatenate"}, [(None, 10), (None, 4, 4)], ["the ranks differ (2 and 3)"]),
        ({"type": "Concatenate", "axis": 0}, [(None, 10), (None, 4)], ["batch axis"]),
        ({"type": "Reshape", "target_shape": [5, 3]}, [(None, 12)], ["(None, 12)", "(5, 3)"]),
        ({"type": "Reshape", "target_shape": [-1, 5]}, [(None, 12)], ["(None, 12)", "(-1, 5)"]),
        ({"type": "Dropout", "rate": 0.1, "noise_shape": [None, 2]}, [(None, 3)], ["(None, 2)", "(None, 3)"]),
        ({"type": "GlobalAveragePooling2D"}, [(None, 8, 3)], ["(None, 8, 3)", "rank 4"]),
    ],
)
def test_shape_errors_quote_the_shapes(config: dict, inputs: list[Shape], quoted: list[str]) -> None:
    with pytest.raises(ShapeError) as raised:
        layer(config).output_shapes(inputs)
    for text in quoted:
        assert text in str(raised.value)


def test_dense_needs_a_known_last_dimension() -> None:
    with pytest.raises(ShapeError, match=r"Dense.*\(None, None\)"):
        layer({"type": "Dense", "units": 3}).weights([(None, None)])


def test_argument_validation() -> None:
    for bad in (
        {"type": "Reshape", "target_shape": [-1, -1]},
        {"type": "Reshape", "target_shape": [0, 3]},
        {"type": "Dropout", "rate": 1.0},
        {"type": "Dense", "units": 0},
        {"type": "Activation", "activation": "relux"},
        {"type": "LSTM", "units": 4, "dropout": 1.0},  # a fraction in [0, 1)
    ):
        with pytest.raises(ValidationError):
            layer(bad)


def test_merge_modules_accept_a_list() -> None:
    add = build_layer(layer({"type": "Add"}), [(None, 2), (None, 2)])
    a, b = torch.ones(1, 2), torch.full((1, 2), 2.0)
    assert torch.equal(add([a, b]), add(a, b))
    concat = build_layer(layer({"type": "Concatenate"}), [(None, 2), (None, 2)])
    assert concat([a, b]).shape == (1, 4)


def test_dense_matches_keras_equation_in_numpy() -> None:
    import numpy as np

    layer = layer_from({"type": "Dense", "units": 3, "activation": "tanh"})
    module = build_layer(layer, [(None, 4)])
    keras_kernel = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)  # Keras layout (in, units)
    keras_bias = np.array([0.1, -0.2, 0.3], np.float32)
    with torch.no_grad():
        module.kernel.copy_(torch.from_numpy(keras_kernel.T))  # torch layout (units, in)
        module.bias.copy_(torch.from_numpy(keras_bias))
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    from modelspec.nn.activations import get_activation

    ours = get_activation(layer.output_activation())(module(torch.from_numpy(x))).detach().numpy()
    assert np.allclose(ours, np.tanh(x @ keras_kernel + keras_bias), atol=1e-5)


def test_stateful_sample_count_must_divide_the_batch(tmp_path) -> None:
    from click.testing import CliRunner
    from modelspec_cli.main import main

    from tests.helpers import SPECS

    result = CliRunner().invoke(main, ["train", str(SPECS / "stacked_lstm_stateful.yaml"), "--set", "data.train={synthetic: {samples: 100}}",
                                       "--run-dir", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 2 and "32" in result.output and "100" in result.output
    assert not (tmp_path / "run").exists()
