"""Convolution and pooling layers: harness cases, plus numerical checks against Keras's equations.

Parameter counts follow Keras's formulas (k = prod(kernel_size), c = input channels):
Conv: k * c / groups * filters + filters; ConvTranspose: k * filters * c + filters;
DepthwiseConv: k * c * depth_multiplier + c * depth_multiplier;
SeparableConv: k * c * depth_multiplier + c * depth_multiplier * filters + filters.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from modelspec.errors import ShapeError
from modelspec.nn.build import build_layer
from modelspec.regularizers import L2
from tests.layer_harness import Case, N, check_case, layer_from

CASES = [
    # Conv1D / Conv3D
    Case("conv1d", {"type": "Conv1D", "filters": 8, "kernel_size": 3}, [(N, 10, 4)], [(N, 8, 8)], (104, 0)),  # 3*4*8 + 8
    Case(
        "conv1d_causal_dilated",
        {"type": "Conv1D", "filters": 4, "kernel_size": 3, "dilation_rate": 2, "padding": "causal", "activation": "relu"},
        [(N, 10, 2)], [(N, 10, 4)], (28, 0),  # 3*2*4 + 4
    ),
    Case(
        "conv1d_causal_strided_groups",
        {"type": "Conv1D", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "causal", "groups": 2},
        [(N, 9, 6)], [(N, 5, 4)], (40, 0),  # 3*(6/2)*4 + 4; ceil(9/2) = 5
    ),
    Case(
        "conv1d_same_strided",
        {"type": "Conv1D", "filters": 3, "kernel_size": [4], "strides": 3, "padding": "same"},
        [(N, 10, 2)], [(N, 4, 3)], (27, 0),  # 4*2*3 + 3; ceil(10/3) = 4
    ),
    Case("conv1d_unknown_steps", {"type": "Conv1D", "filters": 5, "kernel_size": 2}, [(N, None, 3)], [(N, None, 5)], (35, 0)),  # 2*3*5 + 5
    Case("conv3d", {"type": "Conv3D", "filters": 4, "kernel_size": 3}, [(N, 6, 7, 8, 2)], [(N, 4, 5, 6, 4)], (220, 0)),  # 27*2*4 + 4
    Case(
        "conv3d_same_strided",
        {"type": "Conv3D", "filters": 2, "kernel_size": [1, 3, 3], "strides": [1, 2, 2], "padding": "same", "use_bias": False},
        [(N, 3, 5, 6, 3)], [(N, 3, 3, 3, 2)], (54, 0),  # 1*3*3*3*2
    ),
    # separable and depthwise
    Case(
        "separable_conv1d",
        {"type": "SeparableConv1D", "filters": 6, "kernel_size": 3, "depth_multiplier": 2},
        [(N, 10, 4)], [(N, 8, 6)], (78, 0),  # 3*4*2 + 4*2*6 + 6
    ),
    Case(
        "separable_conv2d_same_strided",
        {"type": "SeparableConv2D", "filters": 8, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"},
        [(N, 9, 9, 3)], [(N, 5, 5, 8)], (59, 0),  # 9*3*1 + 3*1*8 + 8
    ),
    Case(
        "separable_conv2d_dilated_multiplier",
        {"type": "SeparableConv2D", "filters": 4, "kernel_size": [3, 2], "dilation_rate": 2, "depth_multiplier": 2, "use_bias": False},
        [(N, 10, 8, 3)], [(N, 6, 6, 4)], (60, 0),  # 3*2*3*2 + 3*2*4; spans 5 and 3
    ),
    Case(
        "depthwise_conv1d",
        {"type": "DepthwiseConv1D", "kernel_size": 3, "depth_multiplier": 2},
        [(N, 10, 4)], [(N, 8, 8)], (32, 0),  # 3*4*2 + 4*2
    ),
    Case(
        "depthwise_conv2d_same",
        {"type": "DepthwiseConv2D", "kernel_size": 3, "padding": "same"},
        [(N, 7, 7, 5)], [(N, 7, 7, 5)], (50, 0),  # 9*5 + 5
    ),
    Case(
        "depthwise_conv2d_strided_multiplier",
        {"type": "DepthwiseConv2D", "kernel_size": [3, 3], "strides": 2, "depth_multiplier": 3, "use_bias": False},
        [(N, 9, 8, 2)], [(N, 4, 3, 6)], (54, 0),  # 9*2*3
    ),
    # transposed
    Case(
        "conv1d_transpose",
        {"type": "Conv1DTranspose", "filters": 16, "kernel_size": 3, "strides": 2},
        [(N, 10, 8)], [(N, 21, 16)], (400, 0),  # 3*16*8 + 16; (10-1)*2 + max(3, 2)
    ),
    Case(
        "conv1d_transpose_same",
        {"type": "Conv1DTranspose", "filters": 4, "kernel_size": 4, "strides": 2, "padding": "same"},
        [(N, 10, 3)], [(N, 20, 4)], (52, 0),  # 4*4*3 + 4; 10*2
    ),
    Case(
        "conv2d_transpose_same",
        {"type": "Conv2DTranspose", "filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
        [(N, 5, 6, 3)], [(N, 10, 12, 4)], (112, 0),  # 9*4*3 + 4
    ),
    Case(
        "conv2d_transpose_output_padding",
        {"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1},
        [(N, 7, 7, 3)], [(N, 16, 16, 2)], (56, 0),  # 9*2*3 + 2; (7-1)*2 + 3 + 1
    ),
    Case(
        "conv2d_transpose_same_output_padding",
        {"type": "Conv2DTranspose", "filters": 2, "kernel_size": [4, 3], "strides": [2, 3], "padding": "same", "output_padding": [1, 2]},
        [(N, 5, 4, 1)], [(N, 9, 12, 2)], (26, 0),  # 4*3*2*1 + 2; (5-1)*2 + 4%2 + 1, (4-1)*3 + 3%2 + 2
    ),
    Case(
        "conv2d_transpose_kernel_below_stride",
        {"type": "Conv2DTranspose", "filters": 3, "kernel_size": 2, "strides": 3},
        [(N, 4, 4, 2)], [(N, 12, 12, 3)], (27, 0),  # 2*2*3*2 + 3; (4-1)*3 + max(2, 3)
    ),
    Case(
        "conv2d_transpose_dilated",
        {"type": "Conv2DTranspose", "filters": 3, "kernel_size": 3, "dilation_rate": 2, "activation": "tanh"},
        [(N, 5, None, 2)], [(N, 9, None, 3)], (57, 0),  # 9*3*2 + 3; span 5: (5-1) + 5
    ),
    Case(
        "conv3d_transpose",
        {"type": "Conv3DTranspose", "filters": 2, "kernel_size": 2, "strides": 2},
        [(N, 3, 3, 3, 4)], [(N, 6, 6, 6, 2)], (66, 0),  # 8*2*4 + 2
    ),
    # pooling
    Case("max_pooling1d", {"type": "MaxPooling1D"}, [(N, 10, 4)], [(N, 5, 4)], (0, 0)),
    Case("max_pooling1d_same", {"type": "MaxPooling1D", "pool_size": 3, "strides": 2, "padding": "same"}, [(N, 10, 4)], [(N, 5, 4)], (0, 0)),
    Case("max_pooling2d", {"type": "MaxPooling2D"}, [(N, 28, 28, 8)], [(N, 14, 14, 8)], (0, 0)),
    Case(
        "max_pooling2d_same_odd",
        {"type": "MaxPooling2D", "pool_size": [3, 3], "strides": 2, "padding": "same"},
        [(N, 7, 7, 3)], [(N, 4, 4, 3)], (0, 0),
    ),
    Case("max_pooling3d", {"type": "MaxPooling3D"}, [(N, 4, 5, 6, 2)], [(N, 2, 2, 3, 2)], (0, 0)),
    Case("average_pooling1d", {"type": "AveragePooling1D"}, [(N, 5, 3)], [(N, 2, 3)], (0, 0)),
    Case("average_pooling2d_same", {"type": "AveragePooling2D", "padding": "same"}, [(N, 5, 5, 2)], [(N, 3, 3, 2)], (0, 0)),
    Case(
        "average_pooling2d_strides",
        {"type": "AveragePooling2D", "pool_size": [3, 2], "strides": 1},
        [(N, 6, None, 2)], [(N, 4, None, 2)], (0, 0), concrete=[(2, 6, 5, 2)],
    ),
    Case(
        "average_pooling3d_same",
        {"type": "AveragePooling3D", "pool_size": 3, "strides": 2, "padding": "same"},
        [(N, 5, 5, 5, 1)], [(N, 3, 3, 3, 1)], (0, 0),
    ),
    # global pooling
    Case("global_max_pooling1d", {"type": "GlobalMaxPooling1D"}, [(N, 10, 16)], [(N, 16)], (0, 0)),
    Case("global_max_pooling2d_keepdims", {"type": "GlobalMaxPooling2D", "keepdims": True}, [(N, 7, 7, 4)], [(N, 1, 1, 4)], (0, 0)),
    Case("global_max_pooling3d", {"type": "GlobalMaxPooling3D"}, [(N, 2, 3, 4, 5)], [(N, 5)], (0, 0)),
    Case("global_average_pooling1d_keepdims", {"type": "GlobalAveragePooling1D", "keepdims": True}, [(N, None, 6)], [(N, 1, 6)], (0, 0)),
    Case("global_average_pooling3d", {"type": "GlobalAveragePooling3D"}, [(N, 2, 3, 4, 5)], [(N, 5)], (0, 0)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_layer(case: Case) -> None:
    check_case(case)


# ----- references -----------------------------------------------------------------------------
def build(config: dict, inputs):
    torch.manual_seed(0)
    module = build_layer(layer_from(config), inputs)
    with torch.no_grad():  # a non-zero bias, so that a misplaced bias shows
        for name, p in module.named_parameters():
            if name == "bias":
                p.normal_()
    return module


def numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy()


def keras_conv2d(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Keras's Conv2D equation, channels_last, valid padding, dilation 1.

    out[b, i, j, f] = bias[f] + sum over (di, dj, c) of x[b, i*s + di, j*s + dj, c] * kernel[di, dj, c, f],
    with kernel in Keras's layout (kh, kw, in, out).
    """
    kh, kw, _, filters = kernel.shape
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, filters))
    for i, j in itertools.product(range(oh), range(ow)):
        patch = x[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
        out[:, i, j, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2])) + bias
    return out


def transpose_reference(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides, lengths) -> np.ndarray:
    """Conv2DTranspose as the gradient of TensorFlow's convolution, channels_last, dilation 1.

    Every input pixel adds kernel[:, :, f, c] * x[b, i, j, c] at rows i*s .. i*s + kh - 1 (Keras's
    kernel layout (kh, kw, filters, in)); the result of output length L is cut from that full map
    where TF's `same` convolution from L back to n would start: before = max((n-1)*s + k - L, 0) // 2
    (0 for valid). Positions past the full map stay zero; then the bias.
    """
    batch, h, w, _ = x.shape
    kh, kw, filters, _ = kernel.shape
    (sh, sw), (lh, lw) = strides, lengths
    full = np.zeros((batch, (h - 1) * sh + kh, (w - 1) * sw + kw, filters))
    for i, j in itertools.product(range(h), range(w)):
        full[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :] += np.einsum("bc,xyfc->bxyf", x[:, i, j, :], kernel)
    top, left = max((h - 1) * sh + kh - lh, 0) // 2, max((w - 1) * sw + kw - lw, 0) // 2
    out = np.zeros((batch, lh, lw, filters))
    window = full[:, top : top + lh, left : left + lw, :]
    out[:, : window.shape[1], : window.shape[2], :] = window
    return out + bias


def correlate(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid 2D cross-correlation of (batch, h, w) with (kh, kw)."""
    kh, kw = kernel.shape
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    return np.stack(
        [np.stack([(x[:, i : i + kh, j : j + kw] * kernel).sum((1, 2)) for j in range(ow)], 1) for i in range(oh)], 1
    )


# ----- numerical checks -----------------------------------------------------------------------
def test_conv2d_matches_the_keras_equation_in_numpy() -> None:
    config = {"type": "Conv2D", "filters": 4, "kernel_size": [3, 2], "strides": 2}
    module = build(config, [(None, 9, 8, 3)])
    x = torch.randn(2, 9, 8, 3)
    kernel = numpy(module.kernel).transpose(2, 3, 1, 0)  # torch (out, in, kh, kw) -> Keras (kh, kw, in, out)
    expected = keras_conv2d(numpy(x), kernel, numpy(module.bias), stride=2)
    assert expected.shape == (2, 4, 4, 4) and layer_from(config).output_shapes([(None, 9, 8, 3)]) == [(None, 4, 4, 4)]
    np.testing.assert_allclose(numpy(module(x)), expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("strides, dilation", [(1, 2), (2, 1), (3, 1)])
def test_conv1d_causal_equals_left_padded_conv(strides: int, dilation: int) -> None:
    module = build({"type": "Conv1D", "filters": 3, "kernel_size": 3, "strides": strides, "dilation_rate": dilation, "padding": "causal"}, [(None, 11, 2)])
    x = torch.randn(2, 11, 2)
    padded = F.pad(x.transpose(1, 2), (dilation * 2, 0))
    expected = F.conv1d(padded, module.kernel, module.bias, stride=strides, dilation=dilation).transpose(1, 2)
    torch.testing.assert_close(module(x), expected)
    assert module(x).shape[1] == math.ceil(11 / strides)
    # causal: output t does not depend on inputs after t
    changed = x.clone()
    changed[:, 6:] += 1.0
    torch.testing.assert_close(module(changed)[:, : 6 // strides + (6 % strides > 0)], module(x)[:, : 6 // strides + (6 % strides > 0)])


@pytest.mark.parametrize(
    "kernel_size, strides, padding, output_padding",
    [(3, 2, "same", None), (4, 2, "same", None), (2, 3, "same", None), (5, 1, "same", None), ([3, 4], [2, 3], "same", None),
     (3, 2, "same", 1), ([4, 3], [2, 3], "same", [1, 2]), (3, 2, "valid", 1), (2, 3, "valid", None), (3, 2, "valid", None)],
)
def test_conv2d_transpose_matches_hand_computed_reference(kernel_size, strides, padding, output_padding) -> None:
    config = {"type": "Conv2DTranspose", "filters": 2, "kernel_size": kernel_size, "strides": strides, "padding": padding}
    if output_padding is not None:
        config["output_padding"] = output_padding
    layer = layer_from(config)
    module = build(config, [(None, 4, 5, 3)])
    x = torch.randn(2, 4, 5, 3)
    (_, lh, lw, _), = layer.output_shapes([(None, 4, 5, 3)])
    kernel = numpy(module.kernel).transpose(2, 3, 1, 0)  # torch (in, filters, kh, kw) -> Keras (kh, kw, filters, in)
    expected = transpose_reference(numpy(x), kernel, numpy(module.bias), layer.axes(layer.strides), (lh, lw))
    np.testing.assert_allclose(numpy(module(x)), expected, atol=1e-5, rtol=1e-5)


def test_separable_conv2d_is_depthwise_then_pointwise() -> None:
    config = {"type": "SeparableConv2D", "filters": 5, "kernel_size": [3, 2], "depth_multiplier": 2}
    module = build(config, [(None, 6, 5, 3)])
    x = numpy(torch.randn(2, 6, 5, 3))
    depthwise, pointwise = numpy(module.depthwise_kernel), numpy(module.pointwise_kernel)[:, :, 0, 0]
    # depthwise: channel c's m-th window makes middle channel c*2 + m (Keras's reshape of (..., c, m))
    middle = np.stack([correlate(x[..., c], depthwise[c * 2 + m, 0]) for c in range(3) for m in range(2)], -1)
    expected = middle @ pointwise.T + numpy(module.bias)
    np.testing.assert_allclose(numpy(module(torch.from_numpy(x).float())), expected, atol=1e-5, rtol=1e-5)


def test_depthwise_conv2d_same_strided_matches_per_channel_reference() -> None:
    config = {"type": "DepthwiseConv2D", "kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2}
    module = build(config, [(None, 6, 7, 2)])
    x = numpy(torch.randn(2, 6, 7, 2))
    # TF same, stride 2: H 6 -> 3, pad total (3-1)*2+3-6 = 1 -> (0, 1); W 7 -> 4, total (4-1)*2+3-7 = 2 -> (1, 1)
    padded = np.pad(x, ((0, 0), (0, 1), (1, 1), (0, 0)))
    kernel = numpy(module.kernel)
    expected = np.stack([correlate(padded[..., c], kernel[c * 2 + m, 0])[:, ::2, ::2] for c in range(2) for m in range(2)], -1)
    np.testing.assert_allclose(numpy(module(torch.from_numpy(x).float())), expected + numpy(module.bias), atol=1e-5, rtol=1e-5)


def test_average_pooling_same_excludes_padding() -> None:
    pool1d = build_layer(layer_from({"type": "AveragePooling1D", "pool_size": 2, "padding": "same"}), [(None, 5, 1)])
    x = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 5, 1)
    # 5 -> 3 windows: pad (0, 1); the last window holds 5 alone
    assert pool1d(x).flatten().tolist() == [1.5, 3.5, 5.0]

    layer = layer_from({"type": "AveragePooling2D", "pool_size": 3, "strides": 2, "padding": "same"})
    x = torch.randn(2, 6, 5, 3)
    # TF same: H 6 -> 3, pad total (3-1)*2+3-6 = 1 -> (0, 1); W 5 -> 3, total (3-1)*2+3-5 = 2 -> (1, 1)
    data = numpy(x)
    expected = np.zeros((2, 3, 3, 3))
    for i, j in itertools.product(range(3), range(3)):
        rows = [r for r in range(2 * i, 2 * i + 3) if r < 6]
        cols = [c - 1 for c in range(2 * j, 2 * j + 3) if 0 <= c - 1 < 5]
        expected[:, i, j, :] = data[:, rows][:, :, cols].mean((1, 2))
    assert layer.output_shapes([(None, 6, 5, 3)]) == [(None, 3, 3, 3)]
    np.testing.assert_allclose(numpy(build_layer(layer, [(None, 6, 5, 3)])(x)), expected, atol=1e-6)


def test_max_pooling_same_padding_never_wins() -> None:
    module = build_layer(layer_from({"type": "MaxPooling2D", "pool_size": 2, "padding": "same"}), [(None, 3, 3, 1)])
    x = -torch.arange(1.0, 10.0).reshape(1, 3, 3, 1)  # all negative: a zero pad would win
    assert module(x).flatten().tolist() == [-1.0, -3.0, -7.0, -9.0]


def test_masked_global_pooling_1d_uses_kept_steps_only() -> None:
    x = torch.randn(3, 5, 4)
    mask = torch.tensor([[True, True, False, False, False], [True] * 5, [False, True, False, True, True]])
    average = build_layer(layer_from({"type": "GlobalAveragePooling1D"}), [(None, 5, 4)])
    maximum = build_layer(layer_from({"type": "GlobalMaxPooling1D", "keepdims": True}), [(None, 5, 4)])
    x_masked = x.clone()
    x_masked[~mask] = float("nan")  # masked values must not leak
    for row in range(3):
        kept = x[row, mask[row]]
        torch.testing.assert_close(average(x_masked, mask=mask)[row], kept.mean(0))
        torch.testing.assert_close(maximum(x_masked, mask=mask)[row, 0], kept.amax(0))
    torch.testing.assert_close(average(x), x.mean(1))
    assert layer_from({"type": "GlobalAveragePooling1D"}).consumes_mask and layer_from({"type": "GlobalMaxPooling1D"}).consumes_mask
    assert not layer_from({"type": "GlobalAveragePooling2D"}).consumes_mask


def test_embedding_mask_reaches_global_average_pooling1d(tmp_path) -> None:
    from modelspec.checked import check_spec
    from modelspec.torch_build import build_module
    from tests.helpers import write

    spec = write(tmp_path, """
    name: pooled
    inputs: {tokens: {shape: [5], dtype: int64}}
    layers:
      - {name: embed, type: Embedding, input_dim: 10, output_dim: 3, mask_zero: true, inputs: tokens}
      - {name: pool, type: GlobalAveragePooling1D}
    outputs: pool
    """)
    graph = check_spec(spec).graph
    module = build_module(graph)
    tokens = torch.tensor([[4, 2, 0, 0, 0], [1, 2, 3, 4, 5]])
    vectors = module.get_submodule("embed").embeddings[tokens]
    expected = torch.stack([vectors[0, :2].mean(0), vectors[1].mean(0)])
    torch.testing.assert_close(module(tokens), expected)


# ----- shape rules agree with the modules ---------------------------------------------------------
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_transpose_lengths_match_the_module_for_every_small_window(padding: str) -> None:
    for kernel, stride, size in itertools.product((1, 2, 3, 4), (1, 2, 3), (1, 2, 5)):
        for output_padding in (None, *range(stride)):
            for dilation in (1, 2) if stride == 1 else (1,):
                config = {"type": "Conv1DTranspose", "filters": 1, "kernel_size": kernel, "strides": stride, "padding": padding, "dilation_rate": dilation}
                if output_padding is not None:
                    config["output_padding"] = output_padding
                layer = layer_from(config)
                try:
                    (shape,) = layer.output_shapes([(None, size, 1)])
                except ShapeError:
                    continue  # same, even kernel, output_padding 0 on one step: no output
                assert tuple(build_layer(layer, [(None, size, 1)])(torch.randn(1, size, 1)).shape) == (1, shape[1], 1), config


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv_and_pool_lengths_match_the_modules(padding: str) -> None:
    for kernel, stride, size in itertools.product((1, 2, 3, 4), (1, 2, 3), (4, 5, 7)):
        for dilation in (1, 2) if stride == 1 else (1,):
            if padding == "valid" and dilation * (kernel - 1) + 1 > size:
                continue  # no output (test_shape_errors_quote_received_and_expected)
            conv = layer_from({"type": "Conv1D", "filters": 1, "kernel_size": kernel, "strides": stride, "padding": padding, "dilation_rate": dilation})
            (shape,) = conv.output_shapes([(None, size, 1)])
            assert build_layer(conv, [(None, size, 1)])(torch.randn(1, size, 1)).shape[1] == shape[1]
        if padding != "causal" and kernel <= size:
            for kind in ("MaxPooling1D", "AveragePooling1D"):
                pool = layer_from({"type": kind, "pool_size": kernel, "strides": stride, "padding": padding})
                (shape,) = pool.output_shapes([(None, size, 1)])
                assert build_layer(pool, [(None, size, 1)])(torch.randn(1, size, 1)).shape[1] == shape[1]


# ----- arguments, errors, initializers, regularizers -----------------------------------------------
@pytest.mark.parametrize(
    "config, match",
    [
        ({"type": "Conv1D", "filters": 2, "kernel_size": [3, 3]}, "list of 1 int "),
        ({"type": "Conv3D", "filters": 2, "kernel_size": 3, "strides": [1, 2]}, "list of 3 ints"),
        ({"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "causal"}, "padding"),
        ({"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, "dilation_rate"),
        ({"type": "Conv1D", "filters": 3, "kernel_size": 3, "groups": 2}, "groups"),
        ({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2}, "output_padding"),
        ({"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "output_padding": [0, -1]}, "output_padding"),
        ({"type": "DepthwiseConv2D", "kernel_size": 3, "kernel_regularizer": "l2"}, "kernel_regularizer"),
        ({"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 0}, "depth_multiplier"),
        ({"type": "MaxPooling2D", "pool_size": [2, 2, 2]}, "list of 2 ints"),
        ({"type": "AveragePooling1D", "padding": "causal"}, "padding"),
        ({"type": "GlobalMaxPooling1D", "data_format": "channels_first"}, "data_format"),
    ],
)
def test_argument_errors(config: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        layer_from(config)


@pytest.mark.parametrize(
    "config, inputs, quoted",
    [
        ({"type": "Conv1D", "filters": 2, "kernel_size": 5}, [(None, 3, 4)], ["(None, 3, 4)", "at least (5,)"]),
        ({"type": "Conv2D", "filters": 2, "kernel_size": 3, "dilation_rate": 2}, [(None, 4, 9, 1)], ["(None, 4, 9, 1)", "at least (5, 5)"]),
        ({"type": "Conv3D", "filters": 2, "kernel_size": 3}, [(None, 8, 8, 3)], ["(None, 8, 8, 3)", "rank 5"]),
        ({"type": "Conv1D", "filters": 2, "kernel_size": 3, "groups": 2}, [(None, 8, 3)], ["(None, 8, 3)", "groups=2"]),
        ({"type": "DepthwiseConv2D", "kernel_size": 3}, [(None, 8, 8, None)], ["(None, 8, 8, None)", "channel"]),
        ({"type": "SeparableConv1D", "filters": 2, "kernel_size": 3}, [(None, 8, 8, 3)], ["(None, 8, 8, 3)", "rank 3"]),
        ({"type": "MaxPooling2D", "pool_size": 3}, [(None, 2, 8, 1)], ["(None, 2, 8, 1)", "at least (3, 3)"]),
        ({"type": "AveragePooling3D"}, [(None, 4, 4, 4)], ["(None, 4, 4, 4)", "rank 5"]),
        ({"type": "GlobalMaxPooling1D"}, [(None, 4, 4, 4)], ["(None, 4, 4, 4)", "rank 3"]),
        (
            {"type": "Conv1DTranspose", "filters": 1, "kernel_size": 2, "padding": "same", "output_padding": 0},
            [(None, 1, 2)], ["(None, 1, 2)", "at least (2,)"],
        ),
    ],
)
def test_shape_errors_quote_received_and_expected(config: dict, inputs, quoted: list[str]) -> None:
    with pytest.raises(ShapeError) as raised:
        layer_from(config).output_shapes(inputs)
    for text in quoted:
        assert text in str(raised.value)


def test_depthwise_kernels_draw_with_keras_fans() -> None:
    # Keras's depthwise kernel (3, 3, 8, 4): glorot limit sqrt(6 / ((8 + 4) * 9)) = 0.236;
    # torch's layout (32, 1, 3, 3) would give sqrt(6 / ((1 + 32) * 9)) = 0.142
    torch.manual_seed(0)
    for module, kernel in (
        (d := build_layer(layer_from({"type": "DepthwiseConv2D", "kernel_size": 3, "depth_multiplier": 4}), [(None, 5, 5, 8)]), d.kernel),
        (s := build_layer(layer_from({"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "depth_multiplier": 4}), [(None, 5, 5, 8)]), s.depthwise_kernel),
    ):
        limit = math.sqrt(6 / (12 * 9))
        assert 0.2 < kernel.abs().max().item() <= limit


def test_keras_regularizer_keys_map_to_the_weights() -> None:
    separable = layer_from(
        {"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "depthwise_regularizer": "l2", "pointwise_constraint": "non_neg",
         "bias_regularizer": {"type": "l2", "l2": 0.5}}
    )
    assert [name for name, _ in separable.weight_penalties()] == ["depthwise_kernel", "bias"]
    assert [name for name, _ in separable.weight_constraints()] == ["pointwise_kernel"]
    depthwise = layer_from({"type": "DepthwiseConv1D", "kernel_size": 3, "depthwise_regularizer": "l2", "bias_regularizer": "l2", "use_bias": False})
    assert depthwise.weight_penalties() == [("kernel", L2(type="l2", l2=0.01))]  # no bias weight, no bias penalty
    conv = layer_from({"type": "Conv3DTranspose", "filters": 2, "kernel_size": 3, "kernel_regularizer": "l2", "bias_constraint": "max_norm"})
    assert [n for n, _ in conv.weight_penalties()] == ["kernel"] and [n for n, _ in conv.weight_constraints()] == ["bias"]
