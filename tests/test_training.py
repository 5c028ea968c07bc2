"""Training end to end: every example trains, the quickstart reaches Keras's accuracy, runs are
deterministic and resumable, multi-output losses are weighted as Keras weights them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.numpy import load_file as load_numpy_weights

from modelspec.checked import check_spec
from modelspec.training.engine import Engine
from modelspec.weights import read_weights
from modelspec.training.run import TrainingRun
from modelspec_cli.main import main
from tests.helpers import SPECS, write


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def fit(spec, tmp_path, *overrides, seed=0, name="run", **kwargs):
    return TrainingRun(check_spec(spec, list(overrides)), tmp_path / name, seed=seed, device="cpu", **kwargs).fit()


@pytest.mark.parametrize("name", sorted(p.name for p in SPECS.glob("*.yaml")))
def test_every_example_trains_from_the_cli(name, tmp_path):
    run_dir = tmp_path / "run"
    result = cli("train", str(SPECS / name), "--set", "fit.epochs=1", "--run-dir", str(run_dir), "--json", "--quiet", "--device", "cpu")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output.strip().splitlines()[-1])
    assert document["run_dir"] == str(run_dir) and document["epochs"] == 1
    assert all(np.isfinite(values).all() for values in document["history"].values())
    for file in ("spec.yaml", "history.csv", "model.safetensors", "checkpoint.pt", "run.json"):
        assert (run_dir / file).is_file(), file


def test_quickstart_reaches_keras_test_accuracy(tmp_path):
    result = fit(SPECS / "digits_mlp.yaml", tmp_path)
    assert result.epochs == 20
    # Keras 3 reaches about 0.90 on the last 20% of the rows (0.875 to 0.917 over seeds).
    assert result.test["accuracy"] >= 0.875, result.test


def test_built_module_parameters_equal_the_graph_counts():
    from modelspec.torch_build import build_module, count_parameters

    for path in sorted(SPECS.glob("*.yaml")):
        prepared = check_spec(path)
        module = build_module(prepared.graph)
        assert count_parameters(module) == (prepared.graph.trainable_params, prepared.graph.non_trainable_params), path.name
        assert sorted(module.state_dict()) == sorted(prepared.graph.weights()), path.name


def test_forward_is_straight_line_code_with_shared_weights():
    from modelspec.torch_build import build_module

    module = build_module(check_spec(SPECS / "shared_lstm_tweets.yaml").graph)
    code = module.code
    assert code.count("self.shared_lstm(") == 2 and "for " not in code and "while " not in code
    assert sum(p.numel() for p in module.parameters()) == 82_305


def test_headline_loss_is_main_plus_weighted_aux(tmp_path):
    prepared = check_spec(SPECS / "headline.yaml")
    result = TrainingRun(prepared, tmp_path / "run", device="cpu").fit()
    history = result.history
    assert history["loss"][0] == pytest.approx(history["main_output_loss"][0] + 0.2 * history["aux_output_loss"][0], rel=1e-5)

    # Independently: binary cross-entropy by hand on the trained weights.
    from modelspec.training.inputs import load_arrays
    from modelspec.training.run import evaluate

    arrays = load_arrays(prepared, prepared.spec.data.train, "train")
    engine = Engine(prepared.graph, prepared.plan, device="cpu")
    engine.module.load_state_dict(read_weights(result.run_dir / "model.safetensors"))
    with torch.no_grad():
        main_out, aux_out = engine.probabilities(engine.outputs([torch.from_numpy(np.array(arrays["main_input"])), torch.from_numpy(np.array(arrays["aux_input"]))])).values()

    def bce(y, p):
        p = p.double().clamp(1e-7, 1 - 1e-7)
        y = torch.from_numpy(np.array(y)).double()
        return float((-(y * p.log() + (1 - y) * (1 - p).log())).mean())

    expected_main, expected_aux = bce(arrays["main_output"], main_out), bce(arrays["aux_output"], aux_out)
    results = evaluate(prepared, result.run_dir / "model.safetensors", device="cpu") if prepared.spec.data.test else None
    assert results is None
    engine.reset_metrics()
    from modelspec.data.batches import Batches
    from modelspec.training.run import evaluate_batches

    logs = evaluate_batches(engine, prepared.graph, Batches(dict(arrays), 32))
    assert logs["main_output_loss"] == pytest.approx(expected_main, rel=1e-4)
    assert logs["aux_output_loss"] == pytest.approx(expected_aux, rel=1e-4)
    assert logs["loss"] == pytest.approx(expected_main + 0.2 * expected_aux, rel=1e-4)


def test_same_seed_same_history_and_weights_bit_for_bit(tmp_path):
    first = fit(SPECS / "mnist_mlp.yaml", tmp_path, "fit.epochs=2", name="a")
    second = fit(SPECS / "mnist_mlp.yaml", tmp_path, "fit.epochs=2", name="b")
    assert first.history == second.history
    a, b = load_numpy_weights(str(first.run_dir / "model.safetensors")), load_numpy_weights(str(second.run_dir / "model.safetensors"))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    other = fit(SPECS / "mnist_mlp.yaml", tmp_path, "fit.epochs=2", seed=1, name="c")
    assert other.history != first.history


def test_resume_ends_with_the_same_weights_as_an_uninterrupted_run(tmp_path):
    spec = SPECS / "digits_mlp.yaml"
    whole = fit(spec, tmp_path, "fit.epochs=4", "fit.validation_split=0.2", name="whole")
    fit(spec, tmp_path, "fit.epochs=2", "fit.validation_split=0.2", name="parts")
    resumed = TrainingRun(check_spec(spec, ["fit.epochs=4", "fit.validation_split=0.2"]), tmp_path / "parts", resume=True, device="cpu").fit()
    assert resumed.history == whole.history
    a = load_numpy_weights(str(whole.run_dir / "model.safetensors"))
    b = load_numpy_weights(str(resumed.run_dir / "model.safetensors"))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert len((tmp_path / "parts" / "history.csv").read_text().strip().splitlines()) == 5


def test_resume_refuses_a_different_spec_and_a_missing_run(tmp_path):
    spec = SPECS / "digits_mlp.yaml"
    fit(spec, tmp_path, "fit.epochs=1", name="run")
    result = cli("train", str(spec), "--set", "fit.batch_size=16", "--run-dir", str(tmp_path / "run"), "--resume", "--quiet")
    assert result.exit_code == 2 and "differs" in result.output
    result = cli("train", str(spec), "--run-dir", str(tmp_path / "nothing"), "--resume", "--quiet")
    assert result.exit_code == 2 and "no checkpoint" in result.output
    result = cli("train", str(spec), "--run-dir", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 2 and "already holds a run" in result.output


def test_stateful_lstm_trains_and_predicts_in_its_fixed_batch(tmp_path):
    result = fit(SPECS / "stacked_lstm_stateful.yaml", tmp_path, "fit.epochs=2")
    assert result.status == "finished" and all(np.isfinite(v).all() for v in result.history.values())
    x = np.random.default_rng(0).random((64, 8, 16), dtype=np.float32)
    np.savez(tmp_path / "inputs.npz", x=x)
    out = cli("predict", str(SPECS / "stacked_lstm_stateful.yaml"), "--weights", str(result.run_dir / "model.safetensors"),
              "--data", str(tmp_path / "inputs.npz"), "--output", str(tmp_path / "pred.npz"), "--device", "cpu")
    assert out.exit_code == 0, out.output
    predictions = np.load(tmp_path / "pred.npz")["y"]
    assert predictions.shape == (64, 10)
    # State carries from batch to batch: the second batch's outputs differ from a fresh start on it.
    np.savez(tmp_path / "second.npz", x=x[32:])
    cli("predict", str(SPECS / "stacked_lstm_stateful.yaml"), "--weights", str(result.run_dir / "model.safetensors"),
        "--data", str(tmp_path / "second.npz"), "--output", str(tmp_path / "fresh.npz"), "--device", "cpu")
    assert not np.allclose(np.load(tmp_path / "fresh.npz")["y"], predictions[32:])


def test_evaluate_and_predict_commands(tmp_path):
    run = fit(SPECS / "digits_mlp.yaml", tmp_path, "fit.epochs=3")
    weights = str(run.run_dir / "model.safetensors")
    result = cli("evaluate", str(SPECS / "digits_mlp.yaml"), "--weights", weights, "--json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == pytest.approx(run.test, rel=1e-5)
    from modelspec.data.datasets.digits import load_digits

    images, labels = load_digits("test")
    np.savez(tmp_path / "digits.npz", x=images)
    result = cli("predict", str(SPECS / "digits_mlp.yaml"), "--weights", weights, "--data", str(tmp_path / "digits.npz"),
                 "--output", str(tmp_path / "out.npz"), "--device", "cpu")
    assert result.exit_code == 0, result.output
    probabilities = np.load(tmp_path / "out.npz")["y"]
    assert probabilities.shape == (360, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert (probabilities.argmax(1) == labels).mean() == pytest.approx(run.test["accuracy"], abs=1e-6)


def test_weights_from_another_spec_are_refused_with_the_mismatches(tmp_path):
    run = fit(SPECS / "digits_mlp.yaml", tmp_path, "fit.epochs=1")
    result = cli("evaluate", str(SPECS / "mnist_mlp.yaml"), "--weights", str(run.run_dir / "model.safetensors"), "--device", "cpu",
                 "--set", "data.test={synthetic: {samples: 32}}")
    assert result.exit_code == 2
    assert "does not fit this model" in result.output and "dense.kernel" in result.output and "(512, 784)" in result.output
    (tmp_path / "garbage.safetensors").write_bytes(b"not a safetensors file")
    result = cli("evaluate", str(SPECS / "digits_mlp.yaml"), "--weights", str(tmp_path / "garbage.safetensors"))
    assert result.exit_code == 2 and "cannot read weights" in result.output


def test_bad_data_is_exit_2_and_nothing_is_written(tmp_path):
    np.savez(tmp_path / "bad.npz", x=np.zeros((10, 63), np.float32), y=np.zeros((9, 10), np.float32))
    run_dir = tmp_path / "run"
    result = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", f"data.train={tmp_path / 'bad.npz'}", "--run-dir", str(run_dir), "--quiet")
    assert result.exit_code == 2, result.output
    assert "x" in result.output and "(None, 64)" in result.output and "Traceback" not in result.output
    assert not run_dir.exists()


def test_overrides_are_validated_like_the_spec(tmp_path):
    result = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "fit.epochs=zero", "--quiet")
    assert result.exit_code == 2 and "fit.epochs" in result.output
    result = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "sequential.9.units=3", "--quiet")
    assert result.exit_code == 2 and "4 item(s)" in result.output
    result = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "noequals", "--quiet")
    assert result.exit_code == 2 and "KEY=VALUE" in result.output


def test_layer_items_are_overridden_by_name(tmp_path):
    result = fit(SPECS / "headline.yaml", tmp_path, "layers.lstm_out.units=4", "fit.epochs=1")
    spec_text = (result.run_dir / "spec.yaml").read_text()
    assert "units: 4" in spec_text and "lstm_out" in spec_text


def test_plain_progress_is_one_line_per_epoch(tmp_path):
    result = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "fit.epochs=2", "--run-dir", str(tmp_path / "r"), "--device", "cpu")
    lines = [line for line in result.output.splitlines() if line.startswith("Epoch ")]
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]
    assert result.output.splitlines()[0] == f"run directory: {tmp_path / 'r'}"


def test_softmax_output_is_trained_from_logits_with_the_same_reported_loss():
    prepared = check_spec(SPECS / "digits_mlp.yaml")
    engine = Engine(prepared.graph, prepared.plan, device="cpu")
    assert set(engine.from_logits) == {"y"}
    x = torch.rand(16, 64)
    y = torch.nn.functional.one_hot(torch.arange(16) % 10, 10).float()
    engine.test_step([x], {"y": y}, None, 16)
    probabilities = engine.predict_step([x])["y"].double().clamp(1e-7, 1 - 1e-7)
    expected = float(-(y.double() * probabilities.log()).sum(1).mean())
    assert engine.logs()["loss"] == pytest.approx(expected, rel=1e-5)


def test_seeded_initialisation_follows_keras_defaults():
    prepared = check_spec(SPECS / "stacked_lstm.yaml")
    first = Engine(prepared.graph, prepared.plan, seed=3).module.state_dict()
    again = Engine(prepared.graph, prepared.plan, seed=3).module.state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)
    units = 32
    bias = first["lstm.bias"]
    assert torch.equal(bias[units:2 * units], torch.ones(units)) and bias[:units].abs().sum() == 0  # unit_forget_bias
    recurrent = first["lstm.recurrent_kernel"]  # orthogonal: columns of the (4u, u) matrix are orthonormal
    assert torch.allclose(recurrent.T @ recurrent, torch.eye(units), atol=1e-5)
    kernel = first["dense.kernel"]  # glorot_uniform on 32 -> 10
    assert kernel.abs().max() <= (6 / (32 + 10)) ** 0.5


def test_submodel_from_another_spec_brings_its_trained_weights(tmp_path):
    encoder = write(tmp_path, """
    name: encoder
    inputs: {features: {shape: [64]}}
    layers:
      - {name: hidden, type: Dense, units: 16, activation: relu, inputs: features}
      - {name: encoded, type: Dense, units: 10, activation: softmax}
    outputs: encoded
    compile: {optimizer: adam, loss: categorical_crossentropy}
    fit: {epochs: 1}
    data: {train: {dataset: digits}}
    """, "encoder.yaml")
    trained = fit(encoder, tmp_path, name="encoder_run")
    outer = write(tmp_path, f"""
    name: outer
    inputs: {{image: {{shape: [64]}}}}
    layers:
      - {{name: frozen, type: Model, model: {{spec: encoder.yaml, weights: {trained.run_dir / 'model.safetensors'}}}, trainable: false, inputs: image}}
      - {{name: head, type: Dense, units: 10, activation: softmax}}
    outputs: head
    compile: {{loss: categorical_crossentropy}}
    data: {{train: {{dataset: digits}}}}
    """, "outer.yaml")
    prepared = check_spec(outer)
    assert prepared.graph.non_trainable_params == 64 * 16 + 16 + 16 * 10 + 10
    engine = Engine(prepared.graph, prepared.plan)
    saved = read_weights(trained.run_dir / "model.safetensors")
    assert torch.equal(engine.module.state_dict()["frozen.hidden.kernel"], saved["hidden.kernel"])
    before = engine.module.state_dict()["frozen.hidden.kernel"].clone()
    run = fit(outer, tmp_path, "fit.epochs=1", name="outer_run")
    after = read_weights(run.run_dir / "model.safetensors")["frozen.hidden.kernel"]
    assert torch.equal(before, after)
