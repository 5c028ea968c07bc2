"""Reshaping (Permute, RepeatVector, Cropping, UpSampling, ZeroPadding) and merging (Subtract, Multiply,
Average, Maximum, Minimum, Dot) layers: harness cases from Keras 3's documented shapes, then values
checked against hand computations.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from modelspec.errors import ShapeError
from modelspec.layers import Shape
from modelspec.nn.build import build_layer
from tests.layer_harness import Case, N, check_case, layer_from

CASES = [
    # reshaping
    Case("permute", {"type": "Permute", "dims": [2, 1]}, [(N, 10, 64)], [(N, 64, 10)], (0, 0)),
    Case("permute_3_dims", {"type": "Permute", "dims": [3, 1, 2]}, [(N, None, 3, 4)], [(N, 4, None, 3)], (0, 0)),
    Case("repeat_vector", {"type": "RepeatVector", "n": 3}, [(N, 32)], [(N, 3, 32)], (0, 0)),
    Case("cropping1d", {"type": "Cropping1D"}, [(N, 10, 4)], [(N, 8, 4)], (0, 0)),
    Case("cropping1d_pair", {"type": "Cropping1D", "cropping": [2, 0]}, [(N, None, 4)], [(N, None, 4)], (0, 0), concrete=[(2, 5, 4)]),
    Case("cropping2d_int", {"type": "Cropping2D", "cropping": 2}, [(N, 28, 28, 3)], [(N, 24, 24, 3)], (0, 0)),
    Case("cropping2d_symmetric", {"type": "Cropping2D", "cropping": [2, 4]}, [(N, 28, 28, 3)], [(N, 24, 20, 3)], (0, 0)),
    Case("cropping2d_asymmetric", {"type": "Cropping2D", "cropping": [[2, 1], [0, 3]]}, [(N, 28, 28, 3)], [(N, 25, 25, 3)], (0, 0)),
    Case("cropping2d_default_unknown", {"type": "Cropping2D"}, [(N, None, None, 3)], [(N, None, None, 3)], (0, 0)),
    Case("cropping3d", {"type": "Cropping3D"}, [(N, 10, 10, 10, 2)], [(N, 8, 8, 8, 2)], (0, 0)),
    Case("cropping3d_per_axis", {"type": "Cropping3D", "cropping": [2, 4, 2]}, [(N, 28, 28, 10, 3)], [(N, 24, 20, 6, 3)], (0, 0)),
    Case("cropping3d_mixed", {"type": "Cropping3D", "cropping": [[1, 0], 2, [0, 3]]}, [(N, 4, None, 5, 1)], [(N, 3, None, 2, 1)], (0, 0),
         concrete=[(2, 4, 6, 5, 1)]),
    Case("up_sampling1d", {"type": "UpSampling1D"}, [(N, 5, 3)], [(N, 10, 3)], (0, 0)),
    Case("up_sampling1d_unknown", {"type": "UpSampling1D", "size": 3}, [(N, None, 3)], [(N, None, 3)], (0, 0)),
    Case("up_sampling2d", {"type": "UpSampling2D"}, [(N, 4, 5, 3)], [(N, 8, 10, 3)], (0, 0)),
    Case("up_sampling2d_bilinear", {"type": "UpSampling2D", "size": [2, 3], "interpolation": "bilinear"}, [(N, 4, 5, 3)], [(N, 8, 15, 3)], (0, 0)),
    Case("up_sampling3d", {"type": "UpSampling3D"}, [(N, 1, 2, 1, 3)], [(N, 2, 4, 2, 3)], (0, 0)),
    Case("up_sampling3d_per_axis", {"type": "UpSampling3D", "size": [1, 2, 3]}, [(N, 1, None, 1, 3)], [(N, 1, None, 3, 3)], (0, 0)),
    Case("zero_padding1d", {"type": "ZeroPadding1D"}, [(N, 2, 3)], [(N, 4, 3)], (0, 0)),
    Case("zero_padding1d_pair", {"type": "ZeroPadding1D", "padding": [1, 2]}, [(N, None, 3)], [(N, None, 3)], (0, 0)),
    Case("zero_padding2d", {"type": "ZeroPadding2D"}, [(N, None, 5, 3)], [(N, None, 7, 3)], (0, 0)),
    Case("zero_padding2d_symmetric", {"type": "ZeroPadding2D", "padding": [1, 2]}, [(N, 4, 4, 3)], [(N, 6, 8, 3)], (0, 0)),
    Case("zero_padding2d_asymmetric", {"type": "ZeroPadding2D", "padding": [[1, 0], [2, 3]]}, [(N, 4, 4, 3)], [(N, 5, 9, 3)], (0, 0)),
    Case("zero_padding3d", {"type": "ZeroPadding3D", "padding": 2}, [(N, 1, 2, 2, 3)], [(N, 5, 6, 6, 3)], (0, 0)),
    Case("zero_padding3d_default", {"type": "ZeroPadding3D"}, [(N, 1, 2, 2, 3)], [(N, 3, 4, 4, 3)], (0, 0)),
    # merging
    Case("subtract", {"type": "Subtract"}, [(N, 10), (N, 10)], [(N, 10)], (0, 0)),
    Case("subtract_broadcast", {"type": "Subtract"}, [(N, 4), (N, 3, 4)], [(N, 3, 4)], (0, 0)),
    Case("multiply", {"type": "Multiply"}, [(N, 8), (N, 8), (N, 1)], [(N, 8)], (0, 0)),
    Case("average", {"type": "Average"}, [(N, 5, 2), (N, 5, 2)], [(N, 5, 2)], (0, 0)),
    Case("maximum", {"type": "Maximum"}, [(N, None, 4), (N, 3, 4)], [(N, None, 4)], (0, 0), concrete=[(2, 3, 4), (2, 3, 4)]),
    Case("minimum", {"type": "Minimum"}, [(4, 5), (N, 5)], [(4, 5)], (0, 0), concrete=[(4, 5), (4, 5)]),
    Case("minimum_single", {"type": "Minimum"}, [(N, 5)], [(N, 5)], (0, 0)),
    Case("dot", {"type": "Dot", "axes": 1}, [(N, 8), (N, 8)], [(N, 1)], (0, 0)),
    Case("dot_axes_1_2_normalize", {"type": "Dot", "axes": [1, 2], "normalize": True}, [(N, 3, 5), (N, 10, 3)], [(N, 5, 10)], (0, 0)),
    Case("dot_negative", {"type": "Dot", "axes": -1}, [(N, 4, 6), (N, None, 6)], [(N, 4, None)], (0, 0)),
    Case("dot_rank2_rank3", {"type": "Dot", "axes": [1, 2]}, [(N, 20), (N, 30, 20)], [(N, 30)], (0, 0)),
    Case("dot_rank4", {"type": "Dot", "axes": [2, 1]}, [(N, 2, 3, 4), (N, 3, 5)], [(N, 2, 4, 5)], (0, 0)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_layer(case: Case) -> None:
    check_case(case)


def build(config: dict, *inputs: Shape):
    return build_layer(layer_from(config), list(inputs))


# ----- reshaping values ---------------------------------------------------------------------
def test_permute_reorders_axes() -> None:
    x = torch.randn(2, 3, 4, 5)
    assert torch.equal(build({"type": "Permute", "dims": [3, 1, 2]}, (None, 3, 4, 5))(x), x.permute(0, 3, 1, 2))


def test_repeat_vector_repeats() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    expected = torch.tensor([[[1.0, 2.0]] * 3, [[3.0, 4.0]] * 3])
    assert torch.equal(build({"type": "RepeatVector", "n": 3}, (None, 2))(x), expected)


def test_up_sampling1d_repeats_each_step() -> None:
    x = torch.arange(12.0).reshape(2, 2, 3)  # Keras's docstring example
    expected = torch.tensor([[[0.0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]], [[6.0, 7, 8], [6, 7, 8], [9, 10, 11], [9, 10, 11]]])
    assert torch.equal(build({"type": "UpSampling1D"}, (None, 2, 3))(x), expected)


def test_up_sampling2d_nearest_and_bilinear() -> None:
    x = torch.tensor([0.0, 1.0]).reshape(1, 1, 2, 1)  # one row: 0, 1
    nearest = build({"type": "UpSampling2D", "size": [1, 2]}, (None, 1, 2, 1))(x)
    assert nearest.flatten().tolist() == [0.0, 0.0, 1.0, 1.0]
    # half-pixel centres: output j samples input (j + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to [0, 1]
    bilinear = build({"type": "UpSampling2D", "size": [2, 2], "interpolation": "bilinear"}, (None, 1, 2, 1))(x)
    assert bilinear.shape == (1, 2, 4, 1)
    assert bilinear[0, :, :, 0].tolist() == [[0.0, 0.25, 0.75, 1.0]] * 2


def test_up_sampling3d_repeats_every_axis() -> None:
    x = torch.randn(2, 2, 3, 1, 4)
    y = build({"type": "UpSampling3D", "size": [2, 1, 3]}, (None, 2, 3, 1, 4))(x)
    expected = np.repeat(np.repeat(x.numpy(), 2, axis=1), 3, axis=3)
    np.testing.assert_array_equal(y.numpy(), expected)


def test_cropping_takes_exact_slices() -> None:
    x = torch.randn(2, 10, 9, 3)
    assert torch.equal(build({"type": "Cropping2D", "cropping": [[2, 1], [0, 3]]}, (None, 10, 9, 3))(x), x[:, 2:-1, 0:-3, :])
    assert torch.equal(build({"type": "Cropping2D", "cropping": [1, 2]}, (None, 10, 9, 3))(x), x[:, 1:-1, 2:-2, :])
    assert torch.equal(build({"type": "Cropping2D"}, (None, 10, 9, 3))(x), x)
    seq = torch.randn(2, 7, 4)
    assert torch.equal(build({"type": "Cropping1D", "cropping": [2, 0]}, (None, 7, 4))(seq), seq[:, 2:, :])
    vol = torch.randn(1, 4, 6, 5, 2)
    cropped = build({"type": "Cropping3D", "cropping": [[1, 0], 2, [0, 3]]}, (None, 4, 6, 5, 2))(vol)
    assert torch.equal(cropped, vol[:, 1:, 2:-2, 0:2, :])


def test_zero_padding_matches_numpy_pad() -> None:
    x = torch.randn(2, 4, 3, 5)
    y = build({"type": "ZeroPadding2D", "padding": [[1, 0], [2, 3]]}, (None, 4, 3, 5))(x)
    np.testing.assert_array_equal(y.numpy(), np.pad(x.numpy(), ((0, 0), (1, 0), (2, 3), (0, 0))))
    seq = torch.arange(12.0).reshape(2, 2, 3) + 1
    padded = build({"type": "ZeroPadding1D", "padding": 2}, (None, 2, 3))(seq)
    assert torch.equal(padded[:, 2:4], seq) and padded[:, :2].abs().sum() == 0 and padded[:, 4:].abs().sum() == 0
    vol = torch.randn(1, 2, 2, 2, 3)
    y3 = build({"type": "ZeroPadding3D", "padding": [[1, 0], 0, [2, 1]]}, (None, 2, 2, 2, 3))(vol)
    np.testing.assert_array_equal(y3.numpy(), np.pad(vol.numpy(), ((0, 0), (1, 0), (0, 0), (2, 1), (0, 0))))


# ----- merging values -----------------------------------------------------------------------
def test_elementwise_merge_values() -> None:
    a = torch.tensor([[1.0, -2.0, 3.0]])
    b = torch.tensor([[0.5, 4.0, -1.0]])
    c = torch.tensor([[2.0, 0.0, 3.0]])
    assert build({"type": "Subtract"}, (None, 3), (None, 3))(a, b).tolist() == [[0.5, -6.0, 4.0]]
    assert build({"type": "Multiply"}, (None, 3), (None, 3))([a, b]).tolist() == [[0.5, -8.0, -3.0]]
    torch.testing.assert_close(build({"type": "Average"}, (None, 3), (None, 3), (None, 3))(a, b, c), torch.tensor([[3.5, 2.0, 5.0]]) / 3)
    assert build({"type": "Maximum"}, (None, 3), (None, 3), (None, 3))(a, b, c).tolist() == [[2.0, 4.0, 3.0]]
    assert build({"type": "Minimum"}, (None, 3), (None, 3))(a, b).tolist() == [[0.5, -2.0, -1.0]]


def test_subtract_broadcasts_lower_rank_after_the_batch_axis() -> None:
    a, b = torch.randn(2, 4), torch.randn(2, 3, 4)
    assert torch.equal(build({"type": "Subtract"}, (None, 4), (None, 3, 4))(a, b), a[:, None, :] - b)


def test_dot_normalize_is_cosine_similarity() -> None:
    x, y = torch.randn(4, 6), torch.randn(4, 6)
    out = build({"type": "Dot", "axes": 1, "normalize": True}, (None, 6), (None, 6))(x, y)
    torch.testing.assert_close(out, F.cosine_similarity(x, y, dim=1).unsqueeze(-1))
    plain = build({"type": "Dot", "axes": -1}, (None, 6), (None, 6))(x, y)
    torch.testing.assert_close(plain, (x * y).sum(dim=1, keepdim=True))


def test_dot_axes_1_2_normalize_matches_einsum() -> None:
    x, y = torch.randn(2, 3, 5), torch.randn(2, 10, 3)
    out = build({"type": "Dot", "axes": [1, 2], "normalize": True}, (None, 3, 5), (None, 10, 3))(x, y)
    xn, yn = x / x.norm(dim=1, keepdim=True), y / y.norm(dim=2, keepdim=True)
    torch.testing.assert_close(out, torch.einsum("bkn,bmk->bnm", xn, yn))
    assert out.abs().max() <= 1.0 + 1e-6  # cosines


def test_dot_higher_ranks_match_einsum() -> None:
    x, y = torch.randn(2, 2, 3, 4), torch.randn(2, 3, 5)
    out = build({"type": "Dot", "axes": [2, 1]}, (None, 2, 3, 4), (None, 3, 5))(x, y)
    torch.testing.assert_close(out, torch.einsum("bikj,bkl->bijl", x, y))
    x2, y2 = torch.randn(2, 20), torch.randn(2, 30, 20)
    torch.testing.assert_close(build({"type": "Dot", "axes": [1, 2]}, (None, 20), (None, 30, 20))(x2, y2), torch.einsum("bk,bmk->bm", x2, y2))


# ----- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "config, inputs, quoted",
    [
        ({"type": "Subtract"}, [(None, 10), (None, 10), (None, 10)], ["exactly 2 inputs, received 3"]),
        ({"type": "Subtract"}, [(None, 10)], ["exactly 2 inputs, received 1"]),
        ({"type": "Subtract"}, [(None, 10), (None, 4, 4)], ["sizes 10 and 4 differ on the last axis"]),
        ({"type": "Multiply"}, [(2, 3), (5, 3)], ["batch sizes 2 and 5 differ"]),
        ({"type": "Average"}, [(None, 3, 4), (None, 2, 4)], ["sizes 3 and 2 differ on axis 1"]),
        ({"type": "Dot", "axes": 1}, [(None, 3, 5), (None, 4, 5)], ["size 3", "size 4", "expected equal sizes"]),
        ({"type": "Dot", "axes": [2, 1]}, [(None, 3, 5), (None, 4, 5)], ["axes=[2, 1]", "size 5", "size 4"]),
        ({"type": "Dot", "axes": 3}, [(None, 3, 5), (None, 4, 5)], ["axis 3 of the first input", "expected 1 to 2"]),
        ({"type": "Dot", "axes": -3}, [(None, 3, 5), (None, 3)], ["axis -3 of the first input"]),
        ({"type": "Dot", "axes": 1}, [(None, 3), (None, 3), (None, 3)], ["exactly 2 inputs, received 3"]),
        ({"type": "Permute", "dims": [2, 1]}, [(None, 2, 3, 4)], ["Permute", "rank 3", "(None, 2, 3, 4)"]),
        ({"type": "RepeatVector", "n": 2}, [(None, 2, 3)], ["RepeatVector", "rank 2", "(None, 2, 3)"]),
        ({"type": "Cropping1D", "cropping": [2, 3]}, [(None, 5, 4)], ["(None, 5, 4)", "above 5", "(2, 3)"]),
        ({"type": "Cropping2D", "cropping": [[1, 1], [2, 2]]}, [(None, 8, 4, 3)], ["(None, 8, 4, 3)", "axis 2", "above 4"]),
        ({"type": "Cropping2D"}, [(None, 8, 3)], ["(None, 8, 3)", "rank 4"]),
        ({"type": "ZeroPadding3D"}, [(None, 8, 8, 3)], ["(None, 8, 8, 3)", "rank 5"]),
        ({"type": "UpSampling1D"}, [(None, 8)], ["(None, 8)", "rank 3"]),
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
        ({"type": "Permute", "dims": [1, 3]}, "dims=[1, 3]"),
        ({"type": "Permute", "dims": [2, 2]}, "each of 1 to 2"),
        ({"type": "Permute", "dims": [0, 1]}, "dims"),
        ({"type": "Permute", "dims": []}, "dims"),
        ({"type": "Dot", "axes": 0}, "batch axis"),
        ({"type": "Dot", "axes": [1, 0]}, "batch axis"),
        ({"type": "Dot", "axes": [1, 2, 3]}, "axes"),
        ({"type": "Dot"}, "axes"),
        ({"type": "RepeatVector", "n": 0}, "n"),
        ({"type": "Cropping2D", "cropping": [1, 2, 3]}, "cropping"),
        ({"type": "Cropping1D", "cropping": -1}, "cropping"),
        ({"type": "ZeroPadding2D", "padding": [[1, 2, 3], 1]}, "padding"),
        ({"type": "UpSampling2D", "interpolation": "bicubic"}, "interpolation"),
        ({"type": "UpSampling2D", "size": 0}, "size"),
        ({"type": "UpSampling1D", "size": True}, "size"),
        ({"type": "UpSampling2D", "data_format": "channels_first"}, "data_format"),
    ],
)
def test_argument_errors(config: dict, quoted: str) -> None:
    with pytest.raises(ValidationError) as raised:
        layer_from(config)
    assert quoted in str(raised.value)


# ----- through a spec -----------------------------------------------------------------------
def test_siamese_spec_compiles_and_runs(tmp_path) -> None:
    from modelspec.checked import check_spec
    from modelspec.torch_build import build_module
    from tests.helpers import write

    spec = write(tmp_path, """
    name: siamese
    inputs:
      left: {shape: [6, 4]}
      right: {shape: [6, 4]}
    layers:
      - {name: pad, type: ZeroPadding1D, padding: [1, 0], inputs: left}
      - {name: crop, type: Cropping1D, cropping: [0, 1]}
      - {name: diff, type: Subtract, inputs: [crop, right]}
      - {name: swap, type: Permute, dims: [2, 1], inputs: diff}
      - {name: cosine, type: Dot, axes: 2, normalize: true, inputs: [swap, swap]}
      - {name: up, type: UpSampling1D, size: 2}
    outputs: up
    """)
    graph = check_spec(spec).graph
    assert graph.layers["cosine"].nodes[0].output_shapes == [(None, 4, 4)]
    module = build_module(graph)
    left, right = torch.randn(3, 6, 4), torch.randn(3, 6, 4)
    out = module(left, right)
    diff = torch.cat([torch.zeros(3, 1, 4), left[:, :-1]], 1) - right
    swapped = F.normalize(diff.transpose(1, 2), dim=2, eps=1e-7)
    torch.testing.assert_close(out, (swapped @ swapped.transpose(1, 2)).repeat_interleave(2, dim=1))


def test_subtract_on_three_inputs_is_a_located_problem(tmp_path) -> None:
    from tests.helpers import only_problem

    problem = only_problem(tmp_path, """
    name: m
    inputs: {a: {shape: [3]}, b: {shape: [3]}, c: {shape: [3]}}
    layers:
      - {name: diff, type: Subtract, inputs: [a, b, c]}
    outputs: diff
    """)
    assert "takes 2 input(s), received 3" in problem.message and problem.line == 4
