"""modelspec convert MODEL.json: Keras 2 and Keras 3 model configs become specs with Keras's layer names and counts."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from modelspec.checked import check_spec
from modelspec.interop.keras_config import convert_document, spec_yaml
from modelspec.source import load_text
from modelspec_cli.main import main
from tests.helpers import SPECS

FIXTURES = Path(__file__).parent / "fixtures" / "keras"

#: The spec each fixture describes, and Keras's parameter count of that model.
MODELS = {
    "mnist_mlp": ("mnist_mlp.yaml", 669_706),
    "headline": ("headline.yaml", 5_200_610),
    "shared_lstm_tweets": ("shared_lstm_tweets.yaml", 82_305),
    "video_classifier": ("video_classifier.yaml", 55_050),
}


def convert(tmp_path: Path, source: Path, *extra: str):
    out = tmp_path / f"{source.stem}.yaml"
    result = CliRunner().invoke(main, ["convert", str(source), "-o", str(out), *extra])
    return result, out


def summary(path: Path) -> dict:
    result = CliRunner().invoke(main, ["summary", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def layer_params(document: dict) -> dict[str, int]:
    return {layer["name"]: layer["params"] for layer in document["layers"] if layer["type"] not in ("InputLayer", "Input")}


@pytest.mark.parametrize("layout", ["keras2", "keras3"])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_fixture_converts_to_a_spec_with_keras_names_and_counts(model: str, layout: str, tmp_path: Path) -> None:
    result, out = convert(tmp_path, FIXTURES / f"{model}.{layout}.json")
    assert result.exit_code == 0, result.output
    spec_file, total = MODELS[model]
    assert f"{total:,} parameters" in result.output
    converted = summary(out)
    assert converted["total_params"] == total
    original = summary(SPECS / spec_file)
    assert converted["total_params"] == original["total_params"]
    assert layer_params(converted) == layer_params(original)  # same layer names, same count per layer
    assert converted["inputs"].values() and list(converted["outputs"]) == list(original["outputs"])


def test_both_layouts_give_the_same_spec() -> None:
    for model in ("headline", "shared_lstm_tweets", "video_classifier"):
        specs = [convert_document(json.loads((FIXTURES / f"{model}.{layout}.json").read_text())) for layout in ("keras2", "keras3")]
        assert specs[0] == specs[1], model


def test_converting_a_config_never_imports_torch(tmp_path: Path) -> None:
    out = tmp_path / "headline.yaml"
    code = (
        "import sys\n"
        "from modelspec_cli.main import main\n"
        f"sys.argv = ['modelspec', 'convert', {str(FIXTURES / 'headline.keras3.json')!r}, '-o', {str(out)!r}]\n"
        "try:\n    main()\nexcept SystemExit as ending:\n    assert not ending.code, ending.code\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert summary(out)["total_params"] == 5_200_610


def test_converted_spec_reads_like_the_handwritten_ones(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(FIXTURES / "shared_lstm_tweets.keras3.json")])  # no -o: printed
    assert result.exit_code == 0, result.output
    assert "  - {name: shared_lstm, type: LSTM, units: 64, inputs: tweet_a}\n" in result.output
    assert "  - {reuse: shared_lstm, inputs: tweet_b}\n" in result.output
    assert "  - {name: merged, type: Concatenate, inputs: [shared_lstm@0, shared_lstm@1]}\n" in result.output
    headline = convert_document(json.loads((FIXTURES / "headline.keras3.json").read_text()))
    assert headline["inputs"] == {"main_input": {"shape": [100], "dtype": "int32"}, "aux_input": {"shape": [5]}}
    assert headline["layers"][0] == {"name": "embedding", "type": "Embedding", "input_dim": 10000, "output_dim": 512, "inputs": "main_input"}
    video = convert_document(json.loads((FIXTURES / "video_classifier.keras2.json").read_text()))
    assert video["layers"] == [{"name": "per_frame", "type": "TimeDistributed", "layer": {"model": "frame_classifier"}, "inputs": "frames"}]
    assert list(video["models"]) == ["frame_classifier"]


def test_unsupported_layers_and_arguments_are_listed_with_their_places(tmp_path: Path) -> None:
    document = json.loads((FIXTURES / "headline.keras3.json").read_text())
    layers = document["config"]["layers"]
    names = [layer["name"] for layer in layers]
    layers[names.index("dense_1")]["class_name"] = "Lambda"
    layers[names.index("dense")]["config"]["kernel_initializer"] = {"class_name": "Constant", "config": {"value": 0.5}}
    layers[names.index("lstm_out")]["config"]["time_major"] = True
    source = tmp_path / "odd.json"
    source.write_text(json.dumps(document, indent=1))
    result, out = convert(tmp_path, source)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 3, result.output
    assert any("layer 'dense_1': Keras's Lambda has no modelspec equivalent (at config.layers[6])" in line for line in lines)
    assert any("layer 'dense': the initializer" in line and "Constant" in line and "config.layers[5].config.kernel_initializer" in line for line in lines)
    assert any("time_major=true" in line and "config.layers[2].config.time_major" in line for line in lines)
    text = source.read_text().splitlines()
    for line in lines:  # FILE:LINE:COL points into the JSON
        file, line_number, column, _ = line.split(":", 3)
        assert file == str(source) and 1 <= int(line_number) <= len(text) and int(column) >= 1
    assert not out.exists()


def _k3_tensor(layer: str, node: int = 0, index: int = 0) -> dict:
    return {"class_name": "__keras_tensor__", "config": {"shape": None, "dtype": "float32", "keras_history": [layer, node, index]}}


def _dense(name: str, units: int, nodes: list) -> dict:
    return {"module": "keras.layers", "class_name": "Dense", "config": {"name": name, "units": units, "activation": "relu"}, "name": name, "inbound_nodes": nodes}


def _input(name: str, width: int, nodes_layout: str = "keras3") -> dict:
    key = "batch_shape" if nodes_layout == "keras3" else "batch_input_shape"
    return {"class_name": "InputLayer", "config": {key: [None, width], "dtype": "float32", "name": name}, "name": name, "inbound_nodes": []}


def test_nested_model_called_twice_is_one_model_and_a_reuse(tmp_path: Path) -> None:
    """A functional model used as a layer has a node of its own first: Keras's node 1 is modelspec's node 0."""
    encoder = {
        "class_name": "Functional",
        "config": {
            "name": "encoder",
            "layers": [_input("features", 8), _dense("hidden", 4, [{"args": [_k3_tensor("features")], "kwargs": {}}])],
            "input_layers": [["features", 0, 0]],
            "output_layers": [["hidden", 0, 0]],
        },
        "name": "encoder",
        "inbound_nodes": [{"args": [_k3_tensor("a")], "kwargs": {}}, {"args": [_k3_tensor("b")], "kwargs": {}}],
    }
    merge = {"class_name": "Add", "config": {"name": "sum"}, "name": "sum",
             "inbound_nodes": [{"args": [[_k3_tensor("encoder", 1), _k3_tensor("encoder", 2)]], "kwargs": {}}]}
    document = {"class_name": "Functional", "config": {
        "name": "siamese", "layers": [_input("a", 8), _input("b", 8), encoder, merge],
        "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["sum", 0, 0]]}}
    spec = convert_document(copy.deepcopy(document))
    assert spec["layers"] == [
        {"name": "encoder", "type": "Model", "model": "encoder", "inputs": "a"},
        {"reuse": "encoder", "inputs": "b"},
        {"name": "sum", "type": "Add", "inputs": ["encoder@0", "encoder@1"]},
    ]
    assert spec["models"]["encoder"]["layers"] == [{"name": "hidden", "type": "Dense", "units": 4, "activation": "relu", "inputs": "features"}]
    path = tmp_path / "siamese.json"
    path.write_text(json.dumps(document))
    result, out = convert(tmp_path, path)
    assert result.exit_code == 0, result.output
    graph = check_spec(out).graph
    assert graph.total_params == 8 * 4 + 4
    assert [node.key for node in graph.order] == ["encoder@0", "encoder@1", "sum@0"]


def test_keras2_sequential_declares_its_input_on_the_first_layer() -> None:
    document = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "Dense", "config": {"name": "dense", "trainable": True, "batch_input_shape": [None, 16], "dtype": "float32", "units": 8,
                                           "activation": "relu", "kernel_initializer": {"class_name": "VarianceScaling",
                                                                                    "config": {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None}},
                                           "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.001}}, "bias_constraint": None}},
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": False, "units": 2, "activation": "softmax",
                                           "kernel_constraint": {"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}}},
    ]}, "keras_version": "2.15.0", "backend": "tensorflow"}
    spec = convert_document(document)
    assert spec["sequential"] == [
        {"name": "dense", "type": "Dense", "units": 8, "activation": "relu", "kernel_initializer": "he_normal",
         "kernel_regularizer": {"type": "l2", "l2": 0.001}, "input_shape": [16]},
        {"name": "dense_1", "type": "Dense", "trainable": False, "units": 2, "activation": "softmax", "kernel_constraint": {"type": "max_norm", "max_value": 3}},
    ]
    yaml.safe_load(yaml.safe_dump(spec))  # plain data


def test_not_a_keras_config_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text('{"weights": [1, 2, 3]}')
    result, _ = convert(tmp_path, path)
    assert result.exit_code == 2
    assert "expected a Keras model config" in result.output
    path.write_text("{not json")
    result, _ = convert(tmp_path, path)
    assert result.exit_code == 2 and "invalid JSON" in result.output


def test_initial_state_keyword_tensors_become_inputs_in_both_layouts() -> None:
    """Keras's decoder(x, initial_state=[h, c]) is modelspec's inputs: [x, "encoder[1]", "encoder[2]"] (specs/seq2seq.yaml)."""
    def k3_input(name: str) -> dict:
        return {"class_name": "InputLayer", "config": {"batch_shape": [None, 10, 12], "dtype": "float32", "name": name}, "name": name, "inbound_nodes": []}

    def lstm(name: str, nodes: list, **config) -> dict:
        return {"class_name": "LSTM", "config": {"name": name, "units": 32, **config}, "name": name, "inbound_nodes": nodes}

    keras3 = {"class_name": "Functional", "config": {"name": "seq2seq", "layers": [
        k3_input("encoder_inputs"), k3_input("decoder_inputs"),
        lstm("encoder", [{"args": [_k3_tensor("encoder_inputs")], "kwargs": {"training": False}}], return_state=True),
        lstm("decoder", [{"args": [_k3_tensor("decoder_inputs")], "kwargs": {"initial_state": [_k3_tensor("encoder", 0, 1), _k3_tensor("encoder", 0, 2)]}}],
             return_sequences=True),
        _dense("next_token", 12, [{"args": [_k3_tensor("decoder")], "kwargs": {}}]),
    ], "input_layers": [["encoder_inputs", 0, 0], ["decoder_inputs", 0, 0]], "output_layers": [["next_token", 0, 0]]}}
    keras2 = copy.deepcopy(keras3)
    keras2["class_name"] = "Model"
    for layer in keras2["config"]["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_input_shape"] = layer["config"].pop("batch_shape")
    encoder, decoder, dense = keras2["config"]["layers"][2:]
    encoder["inbound_nodes"] = [[["encoder_inputs", 0, 0, {}]]]
    encoder["config"]["implementation"] = 2
    decoder["inbound_nodes"] = [[["decoder_inputs", 0, 0, {"initial_state": [["encoder", 0, 1], ["encoder", 0, 2]]}]]]
    dense["inbound_nodes"] = [[["decoder", 0, 0, {}]]]
    specs = [convert_document(document) for document in (keras3, keras2)]
    assert specs[0] == specs[1]
    assert specs[0]["layers"][1] == {"name": "decoder", "type": "LSTM", "units": 32, "return_sequences": True,
                                     "inputs": ["decoder_inputs", "encoder[1]", "encoder[2]"]}
    original = check_spec(SPECS / "seq2seq.yaml").graph
    assert check_spec(load_text(spec_yaml(specs[0]))).graph.total_params == original.total_params == 11_916
