"""Multi-process training on torch.distributed: `modelspec train --nproc 2` (and `torchrun -m modelspec`)
with a batch of 32 a process trains as one process with a batch of 64; process 0 alone writes and
prints; runs resume; a failing or interrupted process stops them all with a clear message."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from modelspec.checked import check_spec
from modelspec.training.run import TrainingRun
from modelspec_cli.main import main
from tests.helpers import write

# 195 training rows: three global batches of 64 and a last one of 3 (1 + 2 rows), weighted by class;
# validation (61 rows) and test (40 rows) are sharded too.
SPEC = """
name: tiny_ddp
sequential:
  - {type: Dense, units: 16, activation: relu, input_shape: [8]}
  - {type: Dense, units: 3, activation: softmax}
compile:
  optimizer: {type: sgd, learning_rate: 0.1, momentum: 0.9}
  loss: categorical_crossentropy
  metrics: [accuracy, auc]
fit: {epochs: 3, batch_size: 32, shuffle: true, class_weight: {0: 1.0, 1: 2.0, 2: 0.5}}
data:
  train: {synthetic: {samples: 195}}
  validation: {synthetic: {samples: 61, seed: 1}}
  test: {synthetic: {samples: 40, seed: 2}}
"""

RUN_FILES = {".lock", "spec.yaml", "history.csv", "model.safetensors", "checkpoint.pt", "run.json"}


def modelspec(*args, cwd: Path, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelspec", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


def history(run_dir: Path) -> dict[str, list[float]]:
    with open(run_dir / "history.csv") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in rows[0]}


def assert_same_history(found: dict[str, list[float]], expected: dict[str, list[float]]) -> None:
    assert found.keys() == expected.keys()
    for name, values in expected.items():
        np.testing.assert_allclose(found[name], values, rtol=0, atol=1e-5, err_msg=name)


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("spec"), SPEC)


@pytest.fixture(scope="module")
def reference(spec, tmp_path_factory) -> tuple[dict[str, list[float]], dict[str, float]]:
    """One process with batch 64: its history and test results."""
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    result = TrainingRun(check_spec(spec, ["fit.batch_size=64"]), run_dir, device="cpu").fit()
    return history(run_dir), result.test


def test_two_processes_of_batch_32_train_as_one_process_of_batch_64(spec, reference, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    result = modelspec("train", spec, "--nproc", "2", "--run-dir", "run", "--device", "cpu", "--json", cwd=work,
                       env={**os.environ, "TMPDIR": str(temporary)})
    assert result.returncode == 0, result.stderr
    expected_history, expected_test = reference
    assert_same_history(history(work / "run"), expected_history)
    info = json.loads((work / "run" / "run.json").read_text())
    assert info["status"] == "finished" and info["processes"] == 2
    assert info["test"] == pytest.approx(expected_test, abs=1e-5)
    # Process 0 alone writes and prints: the run's files, one JSON document, one progress line per epoch.
    assert sorted(p.name for p in work.iterdir()) == ["run"]
    assert {p.name for p in (work / "run").iterdir()} == RUN_FILES
    assert list(temporary.iterdir()) == []  # the launcher's files are gone too
    assert len(result.stdout.strip().splitlines()) == 1 and json.loads(result.stdout)["epochs"] == 3
    assert result.stderr.count("run directory:") == 1 and result.stderr.count("Epoch 3/3") == 1


def test_resume_continues_a_two_process_run_and_torchrun_is_the_same_command(spec, reference, tmp_path):
    first = modelspec("train", spec, "--nproc", "2", "--run-dir", "run", "--set", "fit.epochs=2", "--quiet", "--device", "cpu", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert len(history(tmp_path / "run")["loss"]) == 2

    # Another number of processes would change the global batch: refused, nothing changed.
    refused = CliRunner().invoke(main, ["train", str(spec), "--run-dir", str(tmp_path / "run"), "--resume", "--quiet", "--device", "cpu"])
    assert refused.exit_code == 2 and "--nproc 2" in refused.output and "Traceback" not in refused.output

    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                "-m", "modelspec", "train", str(spec), "--run-dir", "run", "--resume", "--quiet", "--device", "cpu"]
    second = subprocess.run(torchrun, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "TMPDIR": str(tmp_path)})  # torchrun's own log folder
    assert second.returncode == 0, second.stderr
    assert_same_history(history(tmp_path / "run"), reference[0])
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "finished"


PLUGIN = '''
"""A layer that raises in process 1 on its 3rd call: a worker failing in the middle of an epoch."""
import os
from typing import Literal

from modelspec.layers.base import LayerConfig, module_record, register


def fail():
    import torch

    class Fail(torch.nn.Module):
        calls = 0

        def forward(self, x):
            self.calls += 1
            if os.environ.get("RANK") == "1" and self.calls == 3:
                raise RuntimeError("boom in process 1")
            return x

    return Fail()


@register
class FailInProcess1(LayerConfig):
    type: Literal["FailInProcess1"]

    def compute_output_shape(self, input_shape):
        return input_shape

    def module(self, input_shapes):
        return module_record(f"{__name__}:fail")
'''


def test_a_failing_process_stops_every_process_with_its_error(tmp_path):
    (tmp_path / "fail_plugin.py").write_text(PLUGIN)
    spec = write(tmp_path, """
        name: failing
        plugins: [fail_plugin]
        sequential:
          - {type: Dense, units: 3, input_dim: 4}
          - {type: FailInProcess1}
        compile: {loss: mse}
        fit: {epochs: 3, batch_size: 8}
        data: {train: {synthetic: {samples: 64}}}
    """)
    result = modelspec("train", spec, "--nproc", "2", "--run-dir", "run", "--allow-plugins", "--quiet", "--device", "cpu", cwd=tmp_path, timeout=90)
    assert result.returncode == 1
    assert result.stderr.rstrip().splitlines()[-1] == "error: process 1 of 2 failed: RuntimeError: boom in process 1"
    assert "Connection closed" not in result.stderr  # process 0's consequence is not the reported cause


def test_bad_data_is_reported_once_before_anything_is_written(tmp_path):
    spec = write(tmp_path, SPEC.replace("{synthetic: {samples: 195}}", "missing.npz"))
    result = modelspec("train", spec, "--nproc", "2", "--run-dir", "run", "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("error:") == 1 and "missing.npz" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_ctrl_c_stops_every_process_and_keeps_the_checkpoint(spec, tmp_path):
    command = [sys.executable, "-m", "modelspec", "train", str(spec), "--nproc", "2", "--run-dir", "run", "--device", "cpu",
               "--set", "fit.epochs=100000"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(90, process.kill)
    watchdog.start()
    try:
        for line in process.stdout:
            if line.startswith("Epoch 2/"):
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        watchdog.cancel()
        process.kill()
    assert process.returncode == 130, stderr
    assert "--nproc 2 --resume" in stderr and "Traceback" not in stderr
    assert json.loads((tmp_path / "run" / "run.json").read_text())["status"] == "interrupted"
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p).find(str(spec)) >= 0]
    assert left == [], "processes left running"


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.mark.parametrize("args, message", [
    (["--nproc", "0"], "Invalid value for '--nproc'"),
    (["--nproc", "2", "--resume", "--overwrite", "--run-dir", "run"], "give one of them"),
    (["--nproc", "2", "--set", "fit.epochz=3"], "unknown key 'epochz'"),
])
def test_bad_nproc_usage_is_exit_2_without_a_traceback(spec, tmp_path, args, message):
    result = CliRunner().invoke(main, ["train", str(spec), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_nproc_is_a_train_option_only(spec):
    result = CliRunner().invoke(main, ["evaluate", str(spec), "--weights", "w.safetensors", "--nproc", "2"])
    assert result.exit_code == 2 and "No such option '--nproc'" in result.output


def test_nproc_inside_a_launched_process_is_refused(spec):
    result = CliRunner().invoke(main, ["train", str(spec), "--nproc", "2"], env={"WORLD_SIZE": "2"})
    assert result.exit_code == 2 and "use --nproc or torchrun, not both" in result.output


def test_a_resumed_two_process_run_continues_each_process_dropout_stream(tmp_path):
    """Processes draw different dropout masks; after --resume each continues its own stream (not rank 0's)."""
    spec = write(tmp_path, SPEC.replace("activation: relu, input_shape: [8]}", "activation: relu, input_shape: [8]}\n  - {type: Dropout, rate: 0.5}"))
    straight = modelspec("train", spec, "--nproc", "2", "--run-dir", "straight", "--quiet", "--device", "cpu", cwd=tmp_path)
    assert straight.returncode == 0, straight.stderr
    first = modelspec("train", spec, "--nproc", "2", "--run-dir", "resumed", "--set", "fit.epochs=2", "--quiet", "--device", "cpu", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = modelspec("train", spec, "--nproc", "2", "--run-dir", "resumed", "--resume", "--quiet", "--device", "cpu", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert_same_history(history(tmp_path / "resumed"), history(tmp_path / "straight"))


def test_restore_rng_sets_this_process_state_from_new_and_old_checkpoints():
    import torch

    from modelspec.training.distributed import World

    world = World.__new__(World)  # the method reads only rank and device: no process group needed
    world.rank, world.device = 1, torch.device("cpu")
    torch.manual_seed(5)
    mine = torch.get_rng_state()
    expected = torch.rand(3)
    torch.manual_seed(6)
    other = torch.get_rng_state()
    for states in ([{"cpu": other, "cuda": None}, {"cpu": mine, "cuda": None}], [other, mine]):
        torch.manual_seed(0)
        world.restore_rng(states)
        assert torch.equal(torch.rand(3), expected)
