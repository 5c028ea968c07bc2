"""modelspec convert MODEL.weights.h5: Keras 3 weights onto a spec, checked against NumPy with Keras's layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from modelspec.checked import check_spec
from modelspec.training.run import predict
from modelspec_cli.main import main
from tests.helpers import write

h5py = pytest.importorskip("h5py")

TOLERANCE = 1e-5

IMAGE_SPEC = """
name: tiny_convnet
sequential:
  - {type: Conv2D, filters: 4, kernel_size: 3, activation: relu, input_shape: [6, 5, 2]}
  - {type: BatchNormalization}
  - {type: Flatten}
  - {type: Dense, units: 3, activation: softmax}
"""

TEXT_SPEC = """
name: tiny_reader
inputs:
  words: {shape: [7], dtype: int64}
layers:
  - {name: embedding, type: Embedding, input_dim: 20, output_dim: 5, inputs: words}
  - {name: reader, type: LSTM, units: 4}
  - {name: score, type: Dense, units: 1, activation: sigmoid}
outputs: score
"""


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def write_h5(path: Path, groups: dict[str, list[np.ndarray]]) -> None:
    """Keras 3's .weights.h5 layout: <group>/vars/0, 1, ... in the layer's creation order."""
    with h5py.File(path, "w") as handle:
        handle.create_group("vars")
        for name, arrays in groups.items():
            variables = handle.create_group(f"{name}/vars")
            for i, array in enumerate(arrays):
                variables[str(i)] = array.astype(np.float32)


def convert(tmp_path: Path, h5: Path, spec: Path) -> Path:
    out = tmp_path / "converted.safetensors"
    result = CliRunner().invoke(main, ["convert", str(h5), "--spec", str(spec), "--weights-out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def predict_npz(tmp_path: Path, spec: Path, weights: Path, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    data = tmp_path / "inputs.npz"
    np.savez(data, **arrays)
    return predict(check_spec(spec), weights, str(data), tmp_path / "outputs.npz", "cpu")


def test_conv2d_batch_normalization_dense_weights_match_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    kernel, conv_bias = rng.normal(size=(3, 3, 2, 4)), rng.normal(size=4)  # Keras: (kh, kw, in, filters)
    gamma, beta = rng.uniform(0.5, 1.5, 4), rng.normal(size=4)
    mean, variance = rng.normal(size=4), rng.uniform(0.5, 2.0, 4)
    dense_kernel, dense_bias = rng.normal(size=(4 * 3 * 4, 3)), rng.normal(size=3)  # Keras: (in, units)
    h5 = tmp_path / "tiny_convnet.weights.h5"
    write_h5(h5, {
        "layers/conv2d": [kernel, conv_bias],
        "layers/batch_normalization": [gamma, beta, mean, variance],
        "layers/flatten": [],
        "layers/dense": [dense_kernel, dense_bias],
    })
    spec = write(tmp_path, IMAGE_SPEC)
    weights = convert(tmp_path, h5, spec)

    x = rng.normal(size=(3, 6, 5, 2)).astype(np.float32)
    conv = np.zeros((3, 4, 3, 4))
    for i in range(4):
        for j in range(3):
            conv[:, i, j, :] = np.einsum("bhwc,hwcf->bf", x[:, i : i + 3, j : j + 3, :], kernel) + conv_bias
    normalized = (np.maximum(conv, 0.0) - mean) / np.sqrt(variance + 1e-3) * gamma + beta
    expected = softmax(normalized.reshape(3, -1) @ dense_kernel + dense_bias)  # Keras flattens channels_last

    received = predict_npz(tmp_path, spec, weights, {"x": x})["y"]
    assert np.abs(received - expected).max() <= TOLERANCE


def test_embedding_lstm_dense_weights_match_numpy(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    units = 4
    embeddings = rng.normal(size=(20, 5))
    kernel, recurrent, bias = rng.normal(size=(5, 4 * units)) * 0.5, rng.normal(size=(units, 4 * units)) * 0.5, rng.normal(size=4 * units)
    dense_kernel, dense_bias = rng.normal(size=(units, 1)), rng.normal(size=1)
    h5 = tmp_path / "tiny_reader.weights.h5"
    write_h5(h5, {
        "layers/words": [],
        "layers/embedding": [embeddings],
        "layers/reader/cell": [kernel, recurrent, bias],  # Keras 3 keeps an RNN's variables on its cell
        "layers/score": [dense_kernel, dense_bias],
    })
    spec = write(tmp_path, TEXT_SPEC)
    weights = convert(tmp_path, h5, spec)

    words = rng.integers(0, 20, size=(3, 7))
    h = np.zeros((3, units))
    c = np.zeros((3, units))
    for t in range(7):  # Keras's LSTM: gates i, f, c, o in the kernel's columns, one bias
        z = embeddings[words[:, t]] @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    expected = sigmoid(h @ dense_kernel + dense_bias)

    received = predict_npz(tmp_path, spec, weights, {"words": words})["score"]
    assert np.abs(received - expected).max() <= TOLERANCE


def test_missing_and_misshaped_weights_are_listed_and_nothing_is_written(tmp_path: Path) -> None:
    spec = write(tmp_path, TEXT_SPEC)
    h5 = tmp_path / "bad.weights.h5"
    write_h5(h5, {"layers/embedding": [np.zeros((21, 5))], "layers/reader/cell": [np.zeros((5, 16)), np.zeros((4, 16)), np.zeros(16)]})
    out = tmp_path / "w.safetensors"
    result = CliRunner().invoke(main, ["convert", str(h5), "--spec", str(spec), "--weights-out", str(out)])
    assert result.exit_code == 2
    assert "'embedding.embeddings': the file gives shape (21, 5)" in result.output
    assert "'layers/score' is not in the file" in result.output
    assert not out.exists()


def test_h5_needs_spec_and_weights_out(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "model.weights.h5")])
    assert result.exit_code == 2
    assert "--spec SPEC.yaml" in result.output and "--weights-out" in result.output
