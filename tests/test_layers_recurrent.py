"""Recurrent and attention layers: harness cases, and parity with NumPy re-implementations of Keras's equations.

The references below are written from Keras 3's cells (keras/src/layers/rnn/*.py), its backend
`rnn` loop (masked steps keep the states and repeat the previous output) and MultiHeadAttention's
einsum equations, in Keras's weight layout (kernel (features, gates*units)) and float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from modelspec.checked import check_spec
from modelspec.errors import ShapeError
from modelspec.layers import Shape
from modelspec.nn.build import build_layer
from modelspec.torch_build import build_module
from tests.helpers import write
from tests.layer_harness import Case, N, check_case, layer_from

CASES = [
    # GRU: 3 * (units * (features + units) + 2 * units) with reset_after, + units instead of 2 * units without
    Case("gru", {"type": "GRU", "units": 32}, [(N, 10, 16)], [(N, 32)], (4_800, 0)),  # 3*(32*16+32*32+2*32)
    Case(
        "gru_before_sequences_state",
        {"type": "GRU", "units": 4, "reset_after": False, "return_sequences": True, "return_state": True},
        [(N, None, 8)],
        [(N, None, 4), (N, 4)],
        (156, 0),  # 3*(4*8+4*4+4)
    ),
    Case("gru_initial_state", {"type": "GRU", "units": 4}, [(N, 5, 3), (N, 4)], [(N, 4)], (108, 0)),  # 3*(4*3+4*4+2*4)
    Case(
        "gru_loop_dropout_backwards_nobias",
        {"type": "GRU", "units": 3, "activation": "relu", "dropout": 0.2, "recurrent_dropout": 0.3, "go_backwards": True, "use_bias": False},
        [(N, 4, 5)],
        [(N, 3)],
        (72, 0),  # 3*3*(5+3)
    ),
    Case("gru_stateful", {"type": "GRU", "units": 2, "stateful": True, "use_cudnn": False}, [(2, 5, 3)], [(2, 2)], (42, 0)),  # 3*(2*3+2*2+2*2)
    # SimpleRNN: units * (features + units) + units
    Case("simple_rnn", {"type": "SimpleRNN", "units": 16}, [(N, 20, 8)], [(N, 16)], (400, 0)),  # 16*(8+16)+16
    Case(
        "simple_rnn_loop_sequences_state",
        {"type": "SimpleRNN", "units": 4, "activation": "softsign", "return_sequences": True, "return_state": True, "recurrent_dropout": 0.5},
        [(N, 5, 3)],
        [(N, 5, 4), (N, 4)],
        (32, 0),  # 4*(3+4)+4
    ),
    Case("simple_rnn_relu_initial_state", {"type": "SimpleRNN", "units": 2, "activation": "relu"}, [(N, 3, 2), (N, 2)], [(N, 2)], (10, 0)),
    # LSTM options this issue adds: 4 * (units * (features + units) + units)
    Case("lstm_initial_state", {"type": "LSTM", "units": 4}, [(N, 5, 3), (N, 4), (N, 4)], [(N, 4)], (128, 0)),  # 4*(4*(3+4)+4)
    Case("lstm_dropout", {"type": "LSTM", "units": 3, "dropout": 0.5, "recurrent_dropout": 0.5}, [(N, 4, 2)], [(N, 3)], (72, 0)),  # 4*(3*5+3)
    # Bidirectional: twice the wrapped layer's parameters
    Case(
        "bidirectional_lstm_concat",
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 10, "return_sequences": True}},
        [(N, 5, 10)],
        [(N, 5, 20)],
        (1_680, 0),  # 2*4*(10*(10+10)+10)
    ),
    Case(
        "bidirectional_gru_sum",
        {"type": "Bidirectional", "layer": {"type": "GRU", "units": 8}, "merge_mode": "sum"},
        [(N, None, 4)],
        [(N, 8)],
        (672, 0),  # 2*3*(8*4+8*8+2*8)
    ),
    Case(
        "bidirectional_no_merge_states",
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 3, "return_state": True}, "merge_mode": None},
        [(N, 4, 2)],
        [(N, 3)] * 6,  # forward, backward, forward h, c, backward h, c
        (144, 0),  # 2*4*(3*(2+3)+3)
    ),
    Case(
        "bidirectional_backward_layer",
        {
            "type": "Bidirectional",
            "layer": {"type": "GRU", "units": 4, "return_sequences": True},
            "backward_layer": {"type": "SimpleRNN", "units": 6, "go_backwards": True, "return_sequences": True},
            "merge_mode": "concat",
        },
        [(N, 5, 3)],
        [(N, 5, 10)],
        (168, 0),  # 3*(4*3+4*4+2*4) + 6*(3+6)+6
    ),
    Case(
        "bidirectional_initial_states_ave",
        {"type": "Bidirectional", "layer": {"type": "SimpleRNN", "units": 4}, "merge_mode": "ave"},
        [(N, 5, 3), (N, 4), (N, 4)],
        [(N, 4)],
        (64, 0),  # 2*(4*(3+4)+4)
    ),
    # MultiHeadAttention: dq*h*k + h*k + dk*h*k + h*k + dv*h*v + h*v + h*v*E + E
    Case(
        "multi_head_attention",
        {"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 4},
        [(N, 8, 16), (N, 6, 16)],
        [(N, 8, 16)],
        (552, 0),  # 3*(16*2*4 + 2*4) + 2*4*16 + 16
    ),
    Case(
        "multi_head_attention_key_value_dims",
        {"type": "MultiHeadAttention", "num_heads": 3, "key_dim": 2, "value_dim": 5, "output_shape": 7, "dropout": 0.1},
        [(N, 4, 6), (N, 5, 8), (N, 5, 3)],
        [(N, 4, 7)],
        (313, 0),  # (6*3*2+6) + (3*3*2+6) + (8*3*5+15) + (3*5*7+7)
    ),
    Case(
        "multi_head_attention_axes_scores",
        {"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2, "attention_axes": [2], "use_bias": False,
         "use_causal_mask": True, "return_attention_scores": True},
        [(N, 3, 4, 8), (N, 3, 4, 8)],
        [(N, 3, 4, 8), (N, 3, 2, 4, 4)],
        (128, 0),  # 3*(8*2*2) + 2*2*8
    ),
    # Attention and AdditiveAttention
    Case("attention", {"type": "Attention"}, [(N, 8, 16), (N, 6, 16)], [(N, 8, 16)], (0, 0)),
    Case(
        "attention_concat_scale_key_scores",
        {"type": "Attention", "use_scale": True, "score_mode": "concat", "return_attention_scores": True, "dropout": 0.2},
        [(N, 4, 3), (N, 5, 6), (N, 5, 3)],
        [(N, 4, 6), (N, 4, 5)],
        (2, 0),  # scale () + concat_score_weight ()
    ),
    Case("additive_attention", {"type": "AdditiveAttention"}, [(N, 8, 16), (N, 6, 16)], [(N, 8, 16)], (16, 0)),  # scale (dim,)
    Case("additive_attention_no_scale_causal", {"type": "AdditiveAttention", "use_scale": False, "use_causal_mask": True},
         [(N, 4, 3), (N, 4, 3)], [(N, 4, 3)], (0, 0)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_layer(case: Case) -> None:
    check_case(case)


# ----- NumPy references ----------------------------------------------------------------------------
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def keras_rnn(cell, x, states, mask=None, go_backwards=False, zero_output_for_mask=False):
    """Keras's backend rnn loop: returns (outputs (B, T, U), final states)."""
    if go_backwards:
        x = x[:, ::-1]
        mask = None if mask is None else mask[:, ::-1]
    previous = np.zeros_like(states[0])
    outputs = []
    for t in range(x.shape[1]):
        output, new = cell(x[:, t], states)
        if mask is not None:
            keep = mask[:, t, None]
            output = np.where(keep, output, 0.0 if zero_output_for_mask else previous)
            new = [np.where(keep, n, s) for n, s in zip(new, states)]
        states, previous = new, output
        outputs.append(output)
    return np.stack(outputs, 1), states


def lstm_cell(kernel, recurrent, bias):
    def cell(x, states):
        h, c = states
        i, f, g, o = np.split(x @ kernel + h @ recurrent + bias, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return h, [h, c]

    return cell


def gru_cell(kernel, recurrent, bias, reset_after, masks=None):
    """Keras's GRUCell; `masks` = (input masks, recurrent masks), one per gate (implementation 1)."""
    units = recurrent.shape[0]

    def cell(x, states):
        (h,) = states
        input_bias = bias[0] if reset_after else bias
        if masks is None:
            x_z, x_r, x_h = np.split(x @ kernel + input_bias, 3, axis=-1)
            h_z = h_r = h_h = h
        else:
            (d_z, d_r, d_h), (m_z, m_r, m_h) = masks
            k_z, k_r, k_h = np.split(kernel, 3, axis=1)
            b_z, b_r, b_h = np.split(input_bias, 3)
            x_z, x_r, x_h = (x * d_z) @ k_z + b_z, (x * d_r) @ k_r + b_r, (x * d_h) @ k_h + b_h
            h_z, h_r, h_h = h * m_z, h * m_r, h * m_h
        r_kz, r_kr, r_kh = recurrent[:, :units], recurrent[:, units : 2 * units], recurrent[:, 2 * units :]
        if reset_after:
            b_z, b_r, b_h = np.split(bias[1], 3)
            z = sigmoid(x_z + h_z @ r_kz + b_z)
            r = sigmoid(x_r + h_r @ r_kr + b_r)
            candidate = np.tanh(x_h + r * (h_h @ r_kh + b_h))
        else:
            z = sigmoid(x_z + h_z @ r_kz)
            r = sigmoid(x_r + h_r @ r_kr)
            candidate = np.tanh(x_h + (r * h_h) @ r_kh)
        h = z * h + (1 - z) * candidate
        return h, [h]

    return cell


def simple_cell(kernel, recurrent, bias, activation=np.tanh):
    def cell(x, states):
        h = activation(x @ kernel + bias + states[0] @ recurrent)
        return h, [h]

    return cell


def keras_weights(module):
    """(kernel, recurrent_kernel, bias) in Keras's layout, float64."""
    kernel, recurrent = (p.detach().double().numpy().T for p in (module.kernel, module.recurrent_kernel))
    return kernel, recurrent, module.bias.detach().double().numpy()


def reference_cell(layer_type: str, module, **options):
    kernel, recurrent, bias = keras_weights(module)
    if layer_type == "LSTM":
        return lstm_cell(kernel, recurrent, bias)
    if layer_type == "GRU":
        return gru_cell(kernel, recurrent, bias, module.reset_after, **options)
    activations = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "softsign": lambda z: z / (1 + np.abs(z))}
    return simple_cell(kernel, recurrent, bias, activations[module.activation])


def randomize(module, seed: int = 1) -> None:
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.4)


def build(config: dict, inputs: list[Shape]):
    return build_layer(layer_from(config), inputs)


def close(got: torch.Tensor, want) -> None:
    np.testing.assert_allclose(got.detach().double().numpy(), want, atol=1e-5, rtol=1e-5)


# ----- numerical parity -----------------------------------------------------------------------------
@pytest.mark.parametrize("reset_after", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_gru_matches_keras_equations(reset_after: bool, go_backwards: bool) -> None:
    config = {"type": "GRU", "units": 4, "reset_after": reset_after, "go_backwards": go_backwards,
              "return_sequences": True, "return_state": True}
    module = build(config, [(None, 6, 5)])
    assert module.fused == reset_after  # reset_after=False is not torch's formulation: the step loop
    assert tuple(module.bias.shape) == ((2, 12) if reset_after else (12,))
    randomize(module)
    x = torch.randn(3, 6, 5)
    sequence, h = module(x)
    want_sequence, (want_h,) = keras_rnn(reference_cell("GRU", module), x.double().numpy(), [np.zeros((3, 4))], go_backwards=go_backwards)
    close(sequence, want_sequence)
    close(h, want_h)
    if reset_after:  # the fused kernel and the loop agree
        loop_sequence, _ = module.loop(x.flip(1) if go_backwards else x, torch.zeros(3, 4))
        close(loop_sequence, want_sequence)


@pytest.mark.parametrize("activation", ["tanh", "relu", "softsign"])
def test_simple_rnn_matches_keras_equations(activation: str) -> None:
    module = build({"type": "SimpleRNN", "units": 3, "activation": activation, "return_sequences": True}, [(None, 5, 4)])
    assert module.fused == (activation != "softsign")
    randomize(module)
    x = torch.randn(2, 5, 4)
    want, _ = keras_rnn(reference_cell("SimpleRNN", module), x.double().numpy(), [np.zeros((2, 3))])
    close(module(x), want)


MASKS = {
    # right padding: a packed sequence through the fused kernel
    "right": [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]],
    # left padding (Keras's pad_sequences default): shifted, then packed
    "left": [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1]],
    # holes and an empty sequence: the step loop
    "holes": [[1, 0, 1, 0, 1, 1], [0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 1, 0]],
}


@pytest.mark.parametrize("pattern", sorted(MASKS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("layer_type", ["LSTM", "GRU", "SimpleRNN"])
def test_masked_steps_follow_keras(layer_type: str, go_backwards: bool, pattern: str) -> None:
    config = {"type": layer_type, "units": 4, "return_sequences": True, "return_state": True, "go_backwards": go_backwards}
    layer = layer_from(config)
    assert layer.consumes_mask and layer.keeps_mask()
    module = build_layer(layer, [(None, 6, 3)])
    randomize(module)
    x, mask = torch.randn(3, 6, 3), torch.tensor(MASKS[pattern], dtype=torch.bool)
    got_sequence, *got_states = module(x, mask=mask)
    zeros = [np.zeros((3, 4))] * module.state_count
    cell = reference_cell(layer_type, module)
    want_sequence, want_states = keras_rnn(cell, x.double().numpy(), zeros, mask.numpy(), go_backwards)
    close(got_sequence, want_sequence)
    for got, want in zip(got_states, want_states):
        close(got, want)
    last = build({**config, "return_sequences": False, "return_state": False}, [(None, 6, 3)])
    last.load_state_dict(module.state_dict())
    close(last(x, mask=mask), want_sequence[:, -1])  # Keras's last output: the last kept step's


def test_padding_runs_the_fused_kernel_and_holes_the_loop() -> None:
    module = build({"type": "LSTM", "units": 2}, [(None, 6, 3)])
    x = torch.randn(3, 6, 3)
    states = (torch.zeros(3, 2), torch.zeros(3, 2))
    for pattern, fused in (("right", True), ("left", True), ("holes", False)):
        result = module.fused_masked(x, torch.tensor(MASKS[pattern], dtype=torch.bool), states)
        assert (result is not None) == fused, pattern


def test_lstm_mask_from_the_graph(tmp_path) -> None:
    spec = write(tmp_path, """
    name: masked
    inputs: {tokens: {shape: [6], dtype: int64}}
    layers:
      - {type: Embedding, input_dim: 10, output_dim: 3, mask_zero: true, inputs: tokens}
      - {name: first, type: LSTM, units: 4, return_sequences: true}
      - {name: second, type: GRU, units: 2}
    outputs: second
    """)
    graph = check_spec(spec).graph
    module = build_module(graph)
    tokens = torch.tensor([[3, 4, 5, 0, 0, 0], [0, 0, 7, 8, 9, 1]])
    mask = tokens != 0
    embedded, _ = module.embedding(tokens)  # (output, mask)
    expected = module.second(module.first(embedded, mask=mask), mask=mask)
    torch.testing.assert_close(module(tokens), expected)
    assert "mask" in module.code


def test_bidirectional_matches_two_keras_passes() -> None:
    layer = layer_from({"type": "Bidirectional", "layer": {"type": "GRU", "units": 3, "return_sequences": True, "return_state": True}})
    assert layer.keeps_mask() and layer.consumes_mask
    module = build_layer(layer, [(None, 5, 2)])
    randomize(module)
    x, mask = torch.randn(2, 5, 2), torch.tensor([[1, 1, 1, 0, 0], [0, 1, 1, 1, 1]], dtype=torch.bool)
    merged, h_forward, h_backward = module(x, mask=mask)
    zeros = [np.zeros((2, 3))]
    xs, m = x.double().numpy(), mask.numpy()
    y, (hf,) = keras_rnn(reference_cell("GRU", module.forward_layer), xs, zeros, m, zero_output_for_mask=True)
    y_rev, (hb,) = keras_rnn(reference_cell("GRU", module.backward_layer), xs, zeros, m, go_backwards=True, zero_output_for_mask=True)
    close(merged, np.concatenate([y, y_rev[:, ::-1]], axis=-1))  # masked steps are zeros in both halves
    close(h_forward, hf)
    close(h_backward, hb)


def mha_reference(module, query, value, key, heads: int, key_dim: int, allowed=None):
    """Keras's MultiHeadAttention on rank-3 inputs (einsum equations of multi_head_attention.py)."""
    w = {name: t.detach().double().numpy() for name, t in module.state_dict().items()}
    q = np.einsum("btd,dnk->btnk", query, w["query.kernel"]) + w["query.bias"]
    k = np.einsum("bsd,dnk->bsnk", key, w["key.kernel"]) + w["key.bias"]
    v = np.einsum("bsd,dnv->bsnv", value, w["value.kernel"]) + w["value.bias"]
    scores = np.einsum("bsnk,btnk->bnts", k, q / np.sqrt(key_dim))
    if allowed is not None:  # Keras's Softmax adds -1e9 in float32: a fully masked row becomes uniform
        scores = (scores.astype(np.float32) + np.float32(-1e9) * (1.0 - allowed[:, None]).astype(np.float32)).astype(np.float64)
    scores = np.exp(scores - scores.max(-1, keepdims=True))
    probabilities = scores / scores.sum(-1, keepdims=True)
    context = np.einsum("bnts,bsnv->btnv", probabilities, v)
    return np.einsum("btnv,nve->bte", context, w["attention_output.kernel"]) + w["attention_output.bias"]


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_matches_keras(causal: bool) -> None:
    config = {"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 3, "use_causal_mask": causal}
    shapes = [(None, 4, 5), (None, 4, 6), (None, 4, 2), (None, 4, 4)]
    module = build(config, shapes)
    randomize(module)
    query, value, key = torch.randn(2, 4, 5), torch.randn(2, 4, 6), torch.randn(2, 4, 2)
    allowed = torch.rand(2, 4, 4) > 0.3
    allowed[:, :, 0] = True
    module.eval()
    got = module(query, value, key, allowed)
    expected_mask = allowed.numpy() & (np.tril(np.ones((4, 4), dtype=bool)) if causal else True)
    want = mha_reference(module, query.double().numpy(), value.double().numpy(), key.double().numpy(), 2, 3, expected_mask)
    close(got, want)
    masks = [torch.tensor([[1, 1, 1, 0]] * 2, dtype=torch.bool), torch.tensor([[1, 1, 0, 0], [1, 0, 1, 1]], dtype=torch.bool)]
    expected_mask = masks[0].numpy()[:, :, None] & masks[1].numpy()[:, None, :] & (np.tril(np.ones((4, 4), dtype=bool)) if causal else True)
    want = mha_reference(module, query.double().numpy(), value.double().numpy(), key.double().numpy(), 2, 3, expected_mask)
    close(module(query, value, key, mask=masks), want)  # Keras's query and value masks


def test_multi_head_attention_axes_fold_into_the_batch() -> None:
    torch.manual_seed(0)
    images = torch.randn(2, 3, 4, 8)
    config = {"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2}
    flat = build(config, [(None, 12, 8), (None, 12, 8)])
    whole = build(config, [(None, 3, 4, 8), (None, 3, 4, 8)])  # default axes (1, 2): attention over all 12 positions
    rows = build({**config, "attention_axes": -2}, [(None, 3, 4, 8), (None, 3, 4, 8)])  # axis 2 only: each row on its own
    whole.load_state_dict(flat.state_dict())
    rows.load_state_dict(flat.state_dict())
    torch.testing.assert_close(whole(images, images), flat(images.reshape(2, 12, 8), images.reshape(2, 12, 8)).reshape(2, 3, 4, 8))
    folded = images.reshape(6, 4, 8)
    torch.testing.assert_close(rows(images, images), flat(folded, folded).reshape(2, 3, 4, 8))


def test_attention_layers_match_keras() -> None:
    query, value, key = torch.randn(2, 3, 4), torch.randn(2, 5, 6), torch.randn(2, 5, 4)
    value_mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    query_mask = torch.tensor([[1, 1, 0], [1, 1, 1]], dtype=torch.bool)
    q, v, k = (t.double().numpy() for t in (query, value, key))

    def apply(scores):
        scores = scores - 1e9 * (~value_mask.numpy())[:, None, :]
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        return (weights @ v) * query_mask.numpy()[..., None]

    luong = build({"type": "Attention", "use_scale": True}, [(None, 3, 4), (None, 5, 6), (None, 5, 4)])
    with torch.no_grad():
        luong.scale.fill_(0.7)
    close(luong(query, value, key, mask=[query_mask, value_mask]), apply(0.7 * q @ k.transpose(0, 2, 1)))

    concat = build({"type": "Attention", "score_mode": "concat"}, [(None, 3, 4), (None, 5, 6), (None, 5, 4)])
    with torch.no_grad():
        concat.concat_score_weight.fill_(1.5)
    close(concat(query, value, key, mask=[query_mask, value_mask]), apply(1.5 * np.tanh(q[:, :, None] + k[:, None]).sum(-1)))

    additive = build({"type": "AdditiveAttention"}, [(None, 3, 4), (None, 5, 6), (None, 5, 4)])
    scale = additive.scale.detach().double().numpy()
    close(additive(query, value, key, mask=[query_mask, value_mask]), apply((scale * np.tanh(q[:, :, None] + k[:, None])).sum(-1)))


# ----- states ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("reset_after", [True, False])
def test_stateful_gru_carries_state_across_calls(reset_after: bool) -> None:
    stateful = build({"type": "GRU", "units": 5, "stateful": True, "return_sequences": True, "reset_after": reset_after}, [(2, 4, 3)])
    plain = build({"type": "GRU", "units": 5, "return_sequences": True, "reset_after": reset_after}, [(2, 8, 3)])
    randomize(stateful)
    plain.load_state_dict(stateful.state_dict())
    x = torch.randn(2, 8, 3)
    first, second = stateful(x[:, :4]), stateful(x[:, 4:])
    torch.testing.assert_close(torch.cat([first, second], 1), plain(x), atol=1e-6, rtol=1e-5)
    stateful.reset_states()
    torch.testing.assert_close(stateful(x[:, :4]), first)
    with pytest.raises(ValueError, match="batch size 2"):
        stateful(torch.randn(3, 4, 3))


def test_initial_states_as_inputs_by_hand() -> None:
    # SimpleRNN, one unit, linear: h_t = x_t + 0.5 * h_{t-1}
    rnn = build({"type": "SimpleRNN", "units": 1, "activation": "linear", "return_sequences": True}, [(None, 2, 1), (None, 1)])
    with torch.no_grad():
        rnn.kernel.fill_(1.0), rnn.recurrent_kernel.fill_(0.5), rnn.bias.zero_()
    x = torch.tensor([[[1.0], [0.0]]])
    assert rnn(x).flatten().tolist() == [1.0, 0.5]
    assert rnn(x, torch.tensor([[2.0]])).flatten().tolist() == [2.0, 1.0]  # 1 + 0.5*2, 0 + 0.5*2

    # LSTM with zero weights: every gate is sigmoid(0) = 0.5 and the candidate tanh(0) = 0,
    # so c1 = 0.5 * c0 and h1 = 0.5 * tanh(c1), whatever h0 is.
    lstm = build({"type": "LSTM", "units": 2, "return_state": True}, [(None, 1, 3), (None, 2), (None, 2)])
    with torch.no_grad():
        for p in lstm.parameters():
            p.zero_()
    h0, c0 = torch.tensor([[5.0, -5.0]]), torch.tensor([[2.0, -4.0]])
    output, _, c = lstm(torch.randn(1, 1, 3), h0, c0)
    torch.testing.assert_close(c, torch.tensor([[1.0, -2.0]]))
    torch.testing.assert_close(output, 0.5 * torch.tanh(torch.tensor([[1.0, -2.0]])))
    torch.testing.assert_close(lstm(torch.randn(1, 1, 3))[0], torch.zeros(1, 2))  # zero states without them


def test_encoder_states_start_the_decoder(tmp_path) -> None:
    spec = write(tmp_path, """
    name: seq2seq
    inputs: {source: {shape: [7, 3]}, target: {shape: [5, 2]}}
    layers:
      - {name: encoder, type: LSTM, units: 4, return_state: true, inputs: source}
      - {name: decoder, type: LSTM, units: 4, return_sequences: true, inputs: [target, "encoder[1]", "encoder[2]"]}
    outputs: decoder
    """)
    graph = check_spec(spec).graph
    assert graph.layers["decoder"].nodes[0].output_shapes == [(None, 5, 4)]
    module = build_module(graph)
    source, target = torch.randn(2, 7, 3), torch.randn(2, 5, 2)
    _, h, c = module.encoder(source)
    torch.testing.assert_close(module(source, target), module.decoder(target, h, c))
    assert not torch.allclose(module(source, target), module.decoder(target))


# ----- dropout ----------------------------------------------------------------------------------------
def test_dropout_is_off_at_inference_and_recurrent_dropout_loops_in_training(monkeypatch) -> None:
    config = {"type": "GRU", "units": 4, "return_sequences": True}
    module = build({**config, "dropout": 0.5, "recurrent_dropout": 0.5}, [(None, 6, 3)])
    plain = build(config, [(None, 6, 3)])
    plain.load_state_dict(module.state_dict())
    x = torch.randn(4, 6, 3)
    module.eval()
    torch.testing.assert_close(module(x), module(x))
    torch.testing.assert_close(module(x), plain(x))

    calls = []
    original = type(module).fused_call

    def counting(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(type(module), "fused_call", counting)
    module.eval()
    module(x)
    assert calls, "inference runs the fused kernel"
    calls.clear()
    module.train()
    first, second = module(x), module(x)
    assert not calls, "recurrent dropout runs the step loop"
    assert not torch.allclose(first, second) and not torch.allclose(first, plain(x))
    only_input = build({**config, "dropout": 0.5}, [(None, 6, 3)]).train()
    only_input(x)
    assert calls, "input dropout alone keeps the fused kernel"


@pytest.mark.parametrize("reset_after", [True, False])
def test_dropout_masks_are_fixed_across_steps(reset_after: bool) -> None:
    module = build({"type": "GRU", "units": 3, "dropout": 0.4, "recurrent_dropout": 0.4, "reset_after": reset_after,
                    "return_sequences": True}, [(None, 5, 4)]).train()
    randomize(module)
    x = torch.randn(2, 5, 4)
    torch.manual_seed(7)
    got = module(x)
    torch.manual_seed(7)
    input_masks, recurrent_masks = module.dropout_masks(x)  # the same draws: one mask per gate, as Keras's implementation 1
    assert len(input_masks) == len(recurrent_masks) == 3
    masks = ([m.double().numpy() for m in input_masks], [m.double().numpy() for m in recurrent_masks])
    want, _ = keras_rnn(reference_cell("GRU", module, masks=masks), x.double().numpy(), [np.zeros((2, 3))])
    close(got, want)


# ----- configuration and shape errors --------------------------------------------------------------------
@pytest.mark.parametrize(
    "config, inputs, quoted",
    [
        ({"type": "GRU", "units": 4}, [(None, 5, 3), (None, 3)], ["initial state h", "(None, 4)", "(None, 3)"]),
        ({"type": "LSTM", "units": 4}, [(None, 5, 3), (None, 4)], ["[x, h, c]", "received 2"]),
        ({"type": "SimpleRNN", "units": 2, "stateful": True}, [(None, 5, 3)], ["fixed batch size"]),
        ({"type": "Bidirectional", "layer": {"type": "GRU", "units": 2}}, [(None, 5, 3), (None, 2)], ["1 forward and 1 backward"]),
        ({"type": "Bidirectional", "layer": {"type": "GRU", "units": 2}, "backward_layer": {"type": "GRU", "units": 3, "go_backwards": True},
          "merge_mode": "sum"}, [(None, 5, 3)], ["merge_mode=sum", "(None, 2) and (None, 3)"]),
        ({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2}, [(None, 4, 3), (None, 5, 3), (None, 6, 3)], ["value and key"]),
        ({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2}, [(None, 4, 3), (None, 5, 3), (None, 5, 3), (None, 4, 4)],
         ["attention_mask", "(None, 4, 5)"]),
        ({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2, "attention_axes": 3}, [(None, 4, 3), (None, 5, 3)], ["attention_axes"]),
        ({"type": "Attention"}, [(None, 4, 3), (None, 5, 2)], ["same dim"]),
        ({"type": "AdditiveAttention"}, [(None, 4), (None, 5, 4)], ["rank 3"]),
    ],
)
def test_shape_errors_quote_the_shapes(config: dict, inputs: list[Shape], quoted: list[str]) -> None:
    with pytest.raises(ShapeError) as raised:
        layer_from(config).output_shapes(inputs)
    for text in quoted:
        assert text in str(raised.value)


@pytest.mark.parametrize(
    "config, quoted",
    [
        ({"type": "Bidirectional", "layer": {"type": "Dense", "units": 2}}, "received Dense"),
        ({"type": "Bidirectional", "layer": {"type": "GRU", "units": 2, "go_backwards": True}}, "different go_backwards"),
        ({"type": "Bidirectional", "layer": {"type": "GRU", "units": 2},
          "backward_layer": {"type": "GRU", "units": 2, "go_backwards": True, "return_sequences": True}}, "return_sequences"),
        ({"type": "Bidirectional", "layer": {"type": "GRU", "units": 2}, "merge_mode": "max"}, "merge_mode"),
        ({"type": "GRU", "units": 2, "reset_after": False, "use_cudnn": True}, "use_cudnn"),
        ({"type": "GRU", "units": 2, "recurrent_dropout": 1.0}, "recurrent_dropout"),
        ({"type": "MultiHeadAttention", "num_heads": 2, "key_dim": 2, "kernel_constraint": "max_norm"}, "max_norm"),
        ({"type": "Attention", "score_mode": "general"}, "score_mode"),
        ({"type": "AdditiveAttention", "score_mode": "dot"}, "score_mode"),
    ],
)
def test_argument_errors(config: dict, quoted: str) -> None:
    with pytest.raises(ValidationError, match=quoted):
        layer_from(config)


def test_bidirectional_spec_trains_with_regularizers_and_state(tmp_path) -> None:
    from modelspec.graph import is_stateful
    from modelspec.regularizers.runtime import Regularization

    spec = write(tmp_path, """
    name: tagger
    sequential:
      - {type: Bidirectional, input_shape: [6, 3], batch_size: 2,
         layer: {type: GRU, units: 4, return_sequences: true, stateful: true, recurrent_regularizer: l2, kernel_constraint: non_neg}}
      - {type: Dense, units: 2}
    """)
    graph = check_spec(spec).graph
    assert graph.layers["bidirectional"].params == 2 * 3 * (4 * 3 + 4 * 4 + 2 * 4)
    assert is_stateful(graph)
    module = build_module(graph)
    regularization = Regularization(graph, module)
    assert len(regularization.weight_terms) == 2 and len(regularization.constraints) == 2  # forward and backward
    module(torch.randn(2, 6, 3)).sum().backward()
    assert regularization.loss() > 0
    assert module.bidirectional.forward_layer.states is not None
