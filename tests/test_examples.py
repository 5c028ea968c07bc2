"""The documented examples in specs/: each validates, and its shapes and parameter counts are Keras's."""

from __future__ import annotations

import pytest

from modelspec.checked import check_spec
from modelspec.summary import summary_json, summary_rows
from tests.helpers import SPECS, write


def lstm_params(features: int, units: int) -> int:
    """Keras's LSTM: four gates, each with a kernel, a recurrent kernel and ONE bias."""
    return 4 * (units * (features + units) + units)


def dense_params(features: int, units: int) -> int:
    return features * units + units


def gru_params(features: int, units: int) -> int:
    """Keras's GRU with reset_after (the default): two bias rows."""
    return 3 * (units * features + units * units + 2 * units)


def conv2d_params(kernel: int, channels: int, filters: int) -> int:
    return kernel * kernel * channels * filters + filters


# Independent counts: from Keras's formulas here, and the totals Keras 3 prints for these models.
EXPECTED_PARAMS = {
    "sequential_basics.yaml": dense_params(784, 32) + dense_params(32, 10),
    "sequential_basics_input_dim.yaml": dense_params(784, 32) + dense_params(32, 10),
    "mnist_mlp.yaml": 669_706,
    "digits_mlp.yaml": dense_params(64, 64) + dense_params(64, 64) + dense_params(64, 10),
    "stacked_lstm.yaml": 23_242,
    "stacked_lstm_stateful.yaml": 23_242,
    "dense_functional.yaml": dense_params(784, 64) + dense_params(64, 64) + dense_params(64, 10),
    "video_classifier.yaml": dense_params(784, 64) + dense_params(64, 64) + dense_params(64, 10),
    "headline.yaml": 5_200_610,
    "shared_lstm_tweets.yaml": 82_305,
    "shared_conv.yaml": (3 * 3 * 3 * 16 + 16) + dense_params(32, 1),
    # Keras's "simple MNIST convnet" prints 34,826.
    "conv_mnist.yaml": 34_826,
    "residual_block.yaml": 2 * conv2d_params(3, 8, 8) + dense_params(8, 10),
    "inception.yaml": 3 * conv2d_params(1, 3, 16) + conv2d_params(3, 16, 16) + conv2d_params(5, 16, 16) + dense_params(48, 10),
    "bigru_text.yaml": 1000 * 32 + 2 * gru_params(32, 16) + 2 * gru_params(32, 16) + dense_params(32, 1),
    # MultiHeadAttention: query, key and value kernels (32, 2, 16) with biases (2, 16); output kernel (2, 16, 32) + bias 32.
    "transformer_block.yaml": 1000 * 32 + 3 * (32 * 2 * 16 + 2 * 16) + (2 * 16 * 32 + 32) + 2 * (2 * 32)
    + dense_params(32, 64) + dense_params(64, 32) + dense_params(32, 2),
    "seq2seq.yaml": 2 * lstm_params(12, 32) + dense_params(32, 12),
    "income_table.yaml": dense_params(3, 16) + dense_params(16, 1),  # Rescaling has no weights
}


def test_every_example_is_listed():
    assert sorted(p.name for p in SPECS.glob("*.yaml")) == sorted(EXPECTED_PARAMS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMS))
def test_example_validates_with_keras_param_count(name):
    graph = check_spec(SPECS / name).graph
    assert graph.total_params == EXPECTED_PARAMS[name]
    assert graph.non_trainable_params == 0
    assert summary_rows(graph)  # renders


def test_component_counts_match_keras_formulas():
    assert lstm_params(16, 32) + 2 * lstm_params(32, 32) + dense_params(32, 10) == 23_242
    assert 10_000 * 512 + lstm_params(512, 32) + dense_params(32, 1) + dense_params(37, 64) + 2 * dense_params(64, 64) + dense_params(64, 1) == 5_200_610
    assert lstm_params(256, 64) + dense_params(128, 1) == 82_305
    assert dense_params(784, 512) + dense_params(512, 512) + dense_params(512, 10) == 669_706


def shapes_of(name: str) -> dict[str, list]:
    graph = check_spec(SPECS / name).graph
    return {layer["name"]: [n["output_shape"] for n in layer["nodes"]] for layer in summary_json(graph)["layers"]}


def test_headline_shapes_and_outputs():
    graph = check_spec(SPECS / "headline.yaml").graph
    shapes = shapes_of("headline.yaml")
    assert shapes["embedding"] == [[None, 100, 512]]
    assert shapes["lstm_out"] == [[None, 32]]
    assert shapes["merged"] == [[None, 37]]
    assert list(graph.outputs) == ["main_output", "aux_output"]
    assert graph.inputs["main_input"].dtype == "int32"


def test_shared_conv_has_one_row_per_node_with_its_own_shapes():
    graph = check_spec(SPECS / "shared_conv.yaml").graph
    document = summary_json(graph)
    conv = next(layer for layer in document["layers"] if layer["name"] == "conv")
    assert [n["input_shapes"] for n in conv["nodes"]] == [[[None, 32, 32, 3]], [[None, 64, 64, 3]]]
    assert [n["output_shape"] for n in conv["nodes"]] == [[None, 32, 32, 16], [None, 64, 64, 16]]
    assert conv["params"] == 448
    rows = {row.name: row for row in summary_rows(graph)}
    assert rows["conv@0"].output_shape == "(None, 32, 32, 16)" and rows["conv@0"].params == 448
    assert rows["conv@1"].output_shape == "(None, 64, 64, 16)" and rows["conv@1"].params is None
    assert "(None, 64, 64, 3)" in rows["conv@1"].connected_to


def test_tweet_model_shared_lstm_nodes():
    shapes = shapes_of("shared_lstm_tweets.yaml")
    assert shapes["shared_lstm"] == [[None, 64], [None, 64]]
    assert shapes["merged"] == [[None, 128]]


def test_video_classifier_nests_the_frame_classifier():
    graph = check_spec(SPECS / "video_classifier.yaml").graph
    assert graph.output_shapes["per_frame"] == (None, 20, 10)
    rows = summary_rows(graph, expand_nested=True)
    nested = [row for row in rows if row.depth == 1]
    assert [row.name for row in nested] == ["frame", "hidden_1", "hidden_2", "predictions"]
    assert summary_json(graph)["layers"][1]["model"]["total_params"] == EXPECTED_PARAMS["video_classifier.yaml"]


def test_stateful_batch_is_fixed():
    graph = check_spec(SPECS / "stacked_lstm_stateful.yaml").graph
    assert graph.inputs["x"].shape == (32, 8, 16)
    assert graph.output_shapes["y"] == (32, 10)


def summary_of(tmp_path, first_layer: str, rest: str = "  - {type: Dense, units: 10}\n") -> dict:
    path = write(tmp_path, f"name: same\nsequential:\n{first_layer}\n{rest}")
    graph = check_spec(path).graph
    return summary_json(graph)


@pytest.mark.parametrize(
    "first, equivalent",
    [
        ("  - {type: Dense, units: 32, input_shape: [784]}", "  - {type: Dense, units: 32, input_dim: 784}"),
        ("  - {type: LSTM, units: 32, input_shape: [6, 8]}", "  - {type: LSTM, units: 32, input_dim: 8, input_length: 6}"),
        ("  - {type: LSTM, units: 32, input_shape: [null, 8]}", "  - {type: LSTM, units: 32, input_dim: 8}"),
        ("  - {type: LSTM, units: 32, batch_size: 32, input_shape: [6, 8]}", "  - {type: LSTM, units: 32, batch_input_shape: [32, 6, 8]}"),
        ("  - {type: Dense, units: 32, batch_size: 32, input_shape: [784]}", "  - {type: Dense, units: 32, batch_size: 32, input_dim: 784}"),
    ],
)
def test_sequential_input_forms_are_strictly_equivalent(tmp_path, first, equivalent):
    assert summary_of(tmp_path, first) == summary_of(tmp_path, equivalent)


def test_fixed_batch_shows_in_every_shape(tmp_path):
    document = summary_of(tmp_path, "  - {type: LSTM, units: 32, batch_input_shape: [32, 6, 8]}")
    assert [layer["nodes"][0]["output_shape"] for layer in document["layers"]] == [[32, 32], [32, 10]]


def test_automatic_names_follow_keras(tmp_path):
    text = "name: m\nsequential:\n  - {type: Dense, units: 4, input_dim: 2}\n  - {type: Dense, units: 4}\n  - {name: dense_2, type: Dense, units: 4}\n  - {type: Dense, units: 4}\n"
    path = write(tmp_path, text)
    graph = check_spec(path).graph
    assert list(graph.layers) == ["dense", "dense_1", "dense_2", "dense_3"]
