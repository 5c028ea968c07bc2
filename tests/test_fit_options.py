"""Keras's fit arguments: class_weight, sample_weight, steps_per_epoch, initial_epoch, shuffle,
validation_freq; and Ctrl-C leaving a resumable run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from modelspec.checked import check_spec
from modelspec.training.engine import Engine
from modelspec.weights import read_weights
from modelspec.training.inputs import load_arrays
from modelspec.training.run import TrainingRun
from tests.helpers import write

SPEC = """
name: weighted
sequential:
  - {type: Dense, units: 3, activation: softmax, input_dim: 4}
compile:
  optimizer: {type: sgd, learning_rate: 1.0e-9}
  loss: categorical_crossentropy
fit: {epochs: 1, batch_size: 64, shuffle: false}
data:
  train: {synthetic: {samples: 64}}
"""


def first_epoch_loss(tmp_path, *overrides) -> float:
    path = write(tmp_path, SPEC)
    run = TrainingRun(check_spec(path, list(overrides)), tmp_path / "run", device="cpu").fit()
    return run.history["loss"][0]


def hand_loss(tmp_path, weights: np.ndarray) -> float:
    """Keras's sum_over_batch_size: sum of weighted per-sample cross-entropies / number of samples."""
    prepared = check_spec(write(tmp_path, SPEC, "hand.yaml"))
    arrays = load_arrays(prepared, prepared.spec.data.train, "train")
    module = Engine(prepared.graph, prepared.plan, seed=0).module  # the same initial weights as the run
    with torch.no_grad():
        logits = module(torch.from_numpy(np.array(arrays["x"])))
    log_p = torch.log_softmax(logits.double(), dim=-1)
    per_sample = -(torch.from_numpy(np.array(arrays["y"])).double() * log_p).sum(-1)
    return float((per_sample * torch.from_numpy(weights).double()).sum() / len(weights))


def labels(tmp_path) -> np.ndarray:
    prepared = check_spec(write(tmp_path, SPEC, "labels.yaml"))
    return np.array(load_arrays(prepared, prepared.spec.data.train, "train")["y"]).argmax(-1)


def test_class_weight_scales_each_sample_by_its_class(tmp_path):
    loss = first_epoch_loss(tmp_path, "fit.class_weight={0: 1.0, 1: 3.0, 2: 0.5}")
    weights = np.array([1.0, 3.0, 0.5])[labels(tmp_path)]
    assert loss == pytest.approx(hand_loss(tmp_path, weights), rel=1e-5)
    assert loss != pytest.approx(hand_loss(tmp_path, np.ones(64)), rel=1e-3)


def test_sample_weight_file(tmp_path):
    weights = np.linspace(0.0, 2.0, 64, dtype=np.float32)
    np.save(tmp_path / "w.npy", weights)
    loss = first_epoch_loss(tmp_path, "fit.sample_weight=w.npy")
    assert loss == pytest.approx(hand_loss(tmp_path, weights), rel=1e-5)


def test_bad_sample_weight_file_is_a_data_error(tmp_path):
    from modelspec.errors import DataError

    np.save(tmp_path / "w.npy", np.ones(10, np.float32))
    with pytest.raises(DataError, match=r"expected \(64,\)"):
        first_epoch_loss(tmp_path, "fit.sample_weight=w.npy")


def test_steps_per_epoch_and_initial_epoch(tmp_path):
    path = write(tmp_path, SPEC)
    run = TrainingRun(check_spec(path, ["fit.epochs=4", "fit.initial_epoch=1", "fit.batch_size=8", "fit.steps_per_epoch=2"]), tmp_path / "run", device="cpu")
    result = run.fit()
    assert result.epochs == 3 and run.engine.optimizer.iterations == 6
    assert (tmp_path / "run" / "history.csv").read_text().splitlines()[1].startswith("1,")


def test_shuffle_batch_and_validation_freq(tmp_path):
    path = write(tmp_path, SPEC)
    result = TrainingRun(check_spec(path, ["fit.epochs=4", "fit.batch_size=8", "fit.shuffle=batch", "fit.validation_split=0.25", "fit.validation_freq=2"]),
                         tmp_path / "run", device="cpu").fit()
    # A row per epoch: val_* are None in the epochs that did not validate, never shifted to earlier epochs.
    assert result.history["epoch"] == [0, 1, 2, 3] and len(result.history["loss"]) == 4
    assert [value is None for value in result.history["val_loss"]] == [True, False, True, False]
    assert set(result.history) == {"epoch", "loss", "val_loss"}
    assert result.final["val_loss"] == result.history["val_loss"][3] and result.final["loss"] == result.history["loss"][3]


def test_validation_freq_history_csv_and_json_have_a_row_per_epoch(tmp_path):
    from click.testing import CliRunner

    from modelspec_cli.main import main

    path = write(tmp_path, SPEC.replace("fit: {", "fit: {callbacks: [{type: CSVLogger, filename: log.csv}], "))
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", str(path), "--run-dir", str(run_dir), "--device", "cpu", "--quiet", "--json",
                                       "--set", "fit.epochs=5", "--set", "fit.validation_split=0.25", "--set", "fit.validation_freq=2"])
    assert result.exit_code == 0, result.output
    history = json.loads(result.stdout.strip().splitlines()[-1])["history"]
    assert history["epoch"] == [0, 1, 2, 3, 4] and all(len(column) == 5 for column in history.values())
    assert [value is None for value in history["val_loss"]] == [True, False, True, False, True]
    lines = (run_dir / "history.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss"
    rows = [line.split(",") for line in lines[1:]]
    assert [row[0] for row in rows] == ["0", "1", "2", "3", "4"]
    assert [row[2] == "NA" for row in rows] == [True, False, True, False, True]
    assert [float(row[2]) for row in rows if row[2] != "NA"] == [history["val_loss"][1], history["val_loss"][3]]
    assert (run_dir / "log.csv").read_text() == (run_dir / "history.csv").read_text()  # the CSVLogger callback's layout


def test_batch_shuffle_keeps_batches_of_consecutive_rows():
    from modelspec.data.batches import Batches

    batches = Batches({"i": np.arange(20)}, 4)
    seen = [b["i"].tolist() for b, _ in batches.epoch(shuffle="batch", generator=torch.Generator().manual_seed(0))]
    assert sorted(x for b in seen for x in b) == list(range(20))
    assert all(b == list(range(b[0], b[0] + 4)) for b in seen) and [b[0] for b in seen] != [0, 4, 8, 12, 16]


def test_memory_mapped_arrays_are_batched_from_disk(tmp_path):
    from modelspec.data.batches import Batches

    np.save(tmp_path / "x.npy", np.arange(40, dtype=np.float32).reshape(20, 2))
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    batches = Batches({"x": mapped, "y": np.arange(20)}, 6)
    assert "x" in batches.mapped and "y" not in batches.mapped
    for batch, size in batches.epoch(shuffle=True, generator=torch.Generator().manual_seed(1)):
        assert torch.equal(batch["x"][:, 0], batch["y"].float() * 2)  # rows stay aligned across arrays


def saved_epochs(run_dir) -> int:
    """The epochs history.csv records: it is rewritten (atomically, so never half) after each epoch, header only at the start."""
    try:
        return len((run_dir / "history.csv").read_text().splitlines()[1:])
    except FileNotFoundError:
        return 0


def test_ctrl_c_saves_a_resumable_run_and_exits_130(tmp_path):
    spec = write(tmp_path, SPEC.replace("epochs: 1", "epochs: 400").replace("samples: 64", "samples: 20000"))
    run_dir = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "modelspec_cli.main", "train", str(spec), "--run-dir", str(run_dir), "--device", "cpu"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # history.csv is written (header only) before the first epoch: wait for an epoch's row, however slow the machine is.
    deadline = time.time() + 300
    while saved_epochs(run_dir) < 1 and process.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, process.communicate()[1]
    assert saved_epochs(run_dir) >= 1, "no epoch finished within 300 s"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    assert f"--run-dir {run_dir} --resume" in stderr.splitlines()[-1]  # one line, never wrapped, to copy
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    done = json.loads((run_dir / "run.json").read_text())["epochs_done"]
    rows = (run_dir / "history.csv").read_text().splitlines()[1:]
    assert done >= 1 and 1 <= len(rows) <= done and [row.split(",")[0] for row in rows] == [str(e) for e in range(len(rows))]
    assert torch.load(run_dir / "checkpoint.pt", weights_only=True)["epoch"] <= done and read_weights(run_dir / "model.safetensors")
    resumed = subprocess.run([sys.executable, "-m", "modelspec_cli.main", "train", str(spec), "--run-dir", str(run_dir), "--resume",
                              "--set", f"fit.epochs={done + 1}", "--quiet", "--json", "--device", "cpu"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr  # only fit.epochs may differ from the interrupted run's spec
    assert json.loads(resumed.stdout.strip().splitlines()[-1])["epochs"] == done + 1
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
