"""modelspec export: the .pt2, .onnx and .py files give the outputs of `modelspec predict` (1e-5)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from modelspec.checked import check_spec
from modelspec.interop.samples import sample_inputs
from modelspec.torch_build import build_module
from modelspec.weights import save_weights
from modelspec.training.run import predict
from modelspec_cli.main import main
from tests.helpers import SPECS, write

TOLERANCE = 1e-5

#: Two named inputs, one LSTM shared by both, two named outputs: small enough to export in a second.
PAIR_SPEC = """
name: pair
inputs:
  left: {shape: [6, 4]}
  right: {shape: [6, 4]}
layers:
  - {name: encoder, type: LSTM, units: 5, inputs: left}
  - {reuse: encoder, inputs: right}
  - {name: merged, type: Concatenate, inputs: [encoder@0, encoder@1]}
  - {name: score, type: Dense, units: 1, activation: sigmoid}
  - {name: label, type: Dense, units: 3, activation: softmax, inputs: merged}
outputs: [score, label]
"""


def weights_for(spec: Path, tmp_path: Path) -> Path:
    """Initial weights moved off their initialisers (biases included), as a trained file would be."""
    torch.manual_seed(0)
    module = build_module(check_spec(spec).graph)
    with torch.no_grad():
        for tensor in module.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.randn_like(tensor) * 0.1)
    path = tmp_path / f"{spec.stem}.safetensors"
    save_weights(module, path)
    return path


def predicted(spec: Path, weights: Path, tmp_path: Path, batch: int = 5) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(inputs, outputs) of `modelspec predict` on a random batch."""
    prepared = check_spec(spec)
    inputs = {name: tensor.numpy() for name, tensor in zip(prepared.graph.inputs, sample_inputs(prepared.graph, batch, seed=3))}
    data = tmp_path / f"{spec.stem}-inputs.npz"
    np.savez(data, **inputs)
    outputs = predict(prepared, weights, str(data), tmp_path / f"{spec.stem}-outputs.npz", "cpu")
    return inputs, outputs


def run_export(spec: Path, weights: Path, out: Path):
    result = CliRunner().invoke(main, ["export", str(spec), "--weights", str(weights), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    return result


def assert_close(expected: dict[str, np.ndarray], received: dict[str, np.ndarray]) -> None:
    assert list(received) == list(expected)
    for name, want in expected.items():
        got = np.asarray(received[name])
        assert got.shape == want.shape, name
        assert np.abs(got - want).max() <= TOLERANCE, (name, float(np.abs(got - want).max()))


@pytest.fixture(autouse=True)
def one_thread():
    """These models are tiny: one thread avoids OpenMP's spin-waiting when the machine is busy (100x slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def pair(tmp_path: Path) -> Path:
    return write(tmp_path, PAIR_SPEC, "pair.yaml")


# ----- .pt2 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["digits_mlp", "pair"])
def test_pt2_reloads_with_torch_export_load_and_predicts_the_same(which: str, pair: Path, tmp_path: Path) -> None:
    spec = SPECS / "digits_mlp.yaml" if which == "digits_mlp" else pair
    weights = weights_for(spec, tmp_path)
    out = tmp_path / f"{which}.pt2"
    run_export(spec, weights, out)
    inputs, expected = predicted(spec, weights, tmp_path, batch=5)  # exported with a batch of 2: the batch is dynamic
    program = torch.export.load(str(out))
    with torch.no_grad():
        result = program.module()(*(torch.from_numpy(array) for array in inputs.values()))
    result = result if isinstance(result, tuple) else (result,)
    assert_close(expected, dict(zip(expected, (r.numpy() for r in result))))
    extra = {"modelspec.json": ""}
    torch.export.load(str(out), extra_files=extra)
    described = json.loads(extra["modelspec.json"])  # the names the program's positions stand for
    assert list(described["inputs"]) == list(inputs) and list(described["outputs"]) == list(expected)


def test_stateful_model_is_refused_for_pt2_and_onnx(tmp_path: Path) -> None:
    spec = SPECS / "stacked_lstm_stateful.yaml"
    weights = weights_for(spec, tmp_path)
    for suffix in (".pt2", ".onnx"):
        result = CliRunner().invoke(main, ["export", str(spec), "--weights", str(weights), "-o", str(tmp_path / f"m{suffix}")])
        assert result.exit_code == 2, result.output
        assert "stateful" in result.output
        assert not (tmp_path / f"m{suffix}").exists()


def test_unknown_extension_and_mismatched_weights_exit_2(pair: Path, tmp_path: Path) -> None:
    weights = weights_for(pair, tmp_path)
    result = CliRunner().invoke(main, ["export", str(pair), "--weights", str(weights), "-o", str(tmp_path / "model.tflite")])
    assert result.exit_code == 2
    assert "unknown export format '.tflite'" in result.output and ".pt2, .onnx, .py" in result.output
    other = weights_for(SPECS / "digits_mlp.yaml", tmp_path)
    result = CliRunner().invoke(main, ["export", str(pair), "--weights", str(other), "-o", str(tmp_path / "model.pt2")])
    assert result.exit_code == 2
    assert "does not fit this model" in result.output
    assert not (tmp_path / "model.pt2").exists()


# ----- .onnx ----------------------------------------------------------------------------------------
def test_onnx_without_the_extra_names_it(pair: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import modelspec.interop.export as export_module

    monkeypatch.setattr(export_module, "_onnx_missing", lambda: ["onnxscript"])
    weights = weights_for(pair, tmp_path)
    result = CliRunner().invoke(main, ["export", str(pair), "--weights", str(weights), "-o", str(tmp_path / "pair.onnx")])
    assert result.exit_code == 2
    assert "pip install 'modelspec[onnx]'" in result.output
    assert not (tmp_path / "pair.onnx").exists()


@pytest.mark.parametrize("which", ["digits_mlp", "pair"])
def test_onnx_has_the_spec_names_a_dynamic_batch_and_predicts_the_same(which: str, pair: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    spec = SPECS / "digits_mlp.yaml" if which == "digits_mlp" else pair
    weights = weights_for(spec, tmp_path)
    out = tmp_path / f"{which}.onnx"
    run_export(spec, weights, out)
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    inputs, expected = predicted(spec, weights, tmp_path, batch=5)
    assert [i.name for i in session.get_inputs()] == list(inputs)
    assert [o.name for o in session.get_outputs()] == list(expected)
    assert all(isinstance(i.shape[0], str) for i in session.get_inputs())  # a named, dynamic batch dimension
    received = session.run(None, inputs)
    assert_close(expected, dict(zip(expected, received)))


# ----- .py --------------------------------------------------------------------------------------------
#: Run in a fresh interpreter without site processing: torch and safetensors come from their folder
#: on sys.path, and the editable install of modelspec (a .pth finder) is not active.
RUNNER = textwrap.dedent(
    """
    import importlib.util, json, sys
    sys.path[:0] = json.loads(sys.argv[1])
    try:
        import modelspec
    except ImportError:
        pass
    else:
        raise SystemExit("modelspec is importable here: the check would prove nothing")
    import numpy as np
    import torch

    torch.set_num_threads(1)
    for job in json.loads(sys.argv[2]):
        spec = importlib.util.spec_from_file_location(job["module"], job["source"])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert not [name for name in sys.modules if name.split(".")[0] == "modelspec"]
        model = getattr(module, job["class"]).load(job["weights"])
        inputs = np.load(job["inputs"])
        with torch.no_grad():
            result = model(*(torch.from_numpy(inputs[name]) for name in job["input_names"]))
        result = result if isinstance(result, tuple) else (result,)
        np.savez(job["outputs"], **{name: value.numpy() for name, value in zip(job["output_names"], result)})
    """
)


def test_python_source_runs_without_modelspec_and_predicts_the_same(tmp_path: Path) -> None:
    jobs, expected = [], {}
    for name in ("digits_mlp", "headline", "shared_lstm_tweets"):
        spec = SPECS / f"{name}.yaml"
        weights = weights_for(spec, tmp_path)
        source = tmp_path / "generated" / f"{name}_model.py"
        source.parent.mkdir(exist_ok=True)
        run_export(spec, weights, source)
        text = source.read_text()
        assert not re.search(r"^\s*(import|from)\s+modelspec", text, re.MULTILINE)
        compile(text, str(source), "exec")
        inputs, expected[name] = predicted(spec, weights, tmp_path)
        class_name = next(line.split()[2] for line in text.splitlines() if line.startswith("    model = ") and ".load(" in line).split(".")[0]
        jobs.append({
            "module": f"{name}_model", "source": str(source), "class": class_name, "weights": str(weights),
            "inputs": str(tmp_path / f"{name}-inputs.npz"), "input_names": list(inputs), "output_names": list(expected[name]),
            "outputs": str(tmp_path / f"{name}-standalone.npz"),
        })
    site = sorted({str(Path(module.__file__).resolve().parents[1]) for module in (torch, np, __import__("safetensors"))})
    finished = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUNNER, json.dumps(site), json.dumps(jobs)],
        cwd=tmp_path / "generated", capture_output=True, text=True, timeout=120, check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    for job in jobs:
        name = job["module"].removesuffix("_model")
        assert_close(expected[name], dict(np.load(job["outputs"])))


def test_python_source_is_a_readable_module_per_layer(tmp_path: Path) -> None:
    spec = SPECS / "shared_lstm_tweets.yaml"
    weights = weights_for(spec, tmp_path)
    out = tmp_path / "same_author.py"
    run_export(spec, weights, out)
    text = out.read_text()
    assert "class SameAuthor(nn.Module):" in text
    assert "class KerasLSTM(KerasRecurrent):" in text and "class KerasDense(nn.Module):" in text
    assert "self.shared_lstm = KerasLSTM(256, 64)" in text
    forward = text[text.index("    def forward(self, tweet_a"):]
    assert "shared_lstm = self.shared_lstm(tweet_a)" in forward and "self.shared_lstm(tweet_b)" in forward
    assert "    def load(cls, weights_path: str)" in text
    assert "def initialize(tensor: torch.Tensor, name: str) -> torch.Tensor:" in text  # initialisers left out
    imports = {line.split()[1] for line in text.splitlines() if line.startswith(("import ", "from "))}
    assert {name.split(".")[0] for name in imports} <= {"__future__", "torch", "safetensors", "typing", "collections"}


def test_python_source_of_a_nested_model_is_a_class_of_its_own(tmp_path: Path) -> None:
    spec = SPECS / "video_classifier.yaml"
    weights = weights_for(spec, tmp_path)
    out = tmp_path / "video.py"
    result = run_export(spec, weights, out)
    text = out.read_text()
    assert "class FrameClassifier(nn.Module):" in text
    assert "self.per_frame = TimeDistributedModule(FrameClassifier())" in text
    assert "difference from modelspec's outputs on a sample batch: 0" in result.output
