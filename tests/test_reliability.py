"""Crashes, interruptions, concurrent runs, full disks, absurd sizes and hostile files lose nothing."""

from __future__ import annotations

import errno
import fcntl
import json
import pickle
import random
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner
from safetensors.numpy import load_file

from modelspec.checked import check_spec
from modelspec.errors import ModelspecError
from modelspec.training.run import TrainingRun
from modelspec_cli.main import main
from tests.helpers import SPECS, write


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def same_weights(a, b) -> bool:
    x, y = load_file(str(a)), load_file(str(b))
    return x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)


def test_kill_9_at_random_moments_then_resume_gives_the_uninterrupted_weights(tmp_path):
    overrides = ["fit.epochs=25", "fit.validation_split=0.2"]
    whole = TrainingRun(check_spec(SPECS / "digits_mlp.yaml", overrides), tmp_path / "whole", device="cpu").fit()
    run_dir = tmp_path / "killed"
    base = [sys.executable, "-m", "modelspec_cli.main", "train", str(SPECS / "digits_mlp.yaml"), "--run-dir", str(run_dir),
            "--device", "cpu", "--quiet", *[arg for o in overrides for arg in ("--set", o)]]
    rng = random.Random(7)
    kills = 0
    for _ in range(4):
        flags = ["--resume"] if (run_dir / "checkpoint.pt").exists() else ["--overwrite"]
        process = subprocess.Popen(base + flags, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(1.0, 4.0))
        if process.poll() is None:
            process.kill()  # SIGKILL: no handler runs
            kills += 1
        process.wait()
    flags = ["--resume"] if (run_dir / "checkpoint.pt").exists() else ["--overwrite"]
    final = subprocess.run(base + flags, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert kills >= 1
    assert same_weights(whole.run_dir / "model.safetensors", run_dir / "model.safetensors")
    history = (run_dir / "history.csv").read_text().strip().splitlines()
    assert len(history) == 26 and history == (whole.run_dir / "history.csv").read_text().strip().splitlines()


def test_a_second_training_on_the_same_run_directory_refuses(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with open(run_dir / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running training holds it
        result = cli("train", str(SPECS / "digits_mlp.yaml"), "--run-dir", str(run_dir), "--quiet", "--device", "cpu")
    assert result.exit_code == 2 and "another modelspec train is using" in result.output
    assert [p.name for p in run_dir.iterdir()] == [".lock"]


def test_an_existing_run_is_never_overwritten_without_overwrite(tmp_path):
    run_dir = tmp_path / "run"
    first = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "fit.epochs=1", "--run-dir", str(run_dir), "--quiet", "--device", "cpu")
    assert first.exit_code == 0
    before = (run_dir / "model.safetensors").read_bytes()
    again = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "fit.epochs=1", "--run-dir", str(run_dir), "--quiet", "--device", "cpu")
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert (run_dir / "model.safetensors").read_bytes() == before
    both = cli("train", str(SPECS / "digits_mlp.yaml"), "--run-dir", str(run_dir), "--resume", "--overwrite", "--quiet")
    assert both.exit_code == 2
    replaced = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "fit.epochs=2", "--seed", "5", "--run-dir", str(run_dir), "--overwrite", "--quiet",
                   "--device", "cpu")
    assert replaced.exit_code == 0 and len((run_dir / "history.csv").read_text().splitlines()) == 3


def test_an_unwritable_run_directory_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = cli("train", str(SPECS / "digits_mlp.yaml"), "--run-dir", str(blocker / "run"), "--quiet", "--device", "cpu")
    assert result.exit_code == 2 and "cannot create the run directory" in result.output and "Traceback" not in result.output


def test_a_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    from modelspec import files  # where atomic_write lives

    run = TrainingRun(check_spec(SPECS / "digits_mlp.yaml", ["fit.epochs=6"]), tmp_path / "run", device="cpu")
    real_replace, calls = files.os.replace, {"n": 0}

    def replace(source, target):
        calls["n"] += 1
        if calls["n"] > 12:  # a few epochs in, the disk fills up
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(source, target)

    monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(ModelspecError, match="No space left on device.*checkpoint is kept"):
        run.fit()
    monkeypatch.setattr(files.os, "replace", real_replace)
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]
    resumed = TrainingRun(check_spec(SPECS / "digits_mlp.yaml", ["fit.epochs=6"]), tmp_path / "run", resume=True, device="cpu").fit()
    whole = TrainingRun(check_spec(SPECS / "digits_mlp.yaml", ["fit.epochs=6"]), tmp_path / "whole", device="cpu").fit()
    assert resumed.status == "finished" and same_weights(resumed.run_dir / "model.safetensors", whole.run_dir / "model.safetensors")


def test_absurd_sizes_are_refused_before_allocating(tmp_path):
    spec = write(tmp_path, """
    name: huge
    sequential:
      - {type: Dense, units: 100000000000, input_dim: 100000000}
    compile: {loss: mse}
    data: {train: {synthetic: {samples: 2}}}
    """)
    summary = cli("summary", str(spec), "--json")
    assert json.loads(summary.output)["total_params"] == 100_000_000 * 100_000_000_000 + 100_000_000_000
    result = cli("train", str(spec), "--quiet", "--run-dir", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert "10,000,000,100,000,000,000 parameters" in result.output and "--force" in result.output and "more than the" in result.output
    assert not (tmp_path / "run").exists()


def test_a_pickled_checkpoint_cannot_run_code(tmp_path):
    run_dir = tmp_path / "run"
    cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "fit.epochs=1", "--run-dir", str(run_dir), "--quiet", "--device", "cpu")
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (subprocess.call, (["touch", str(marker)],))

    (run_dir / "checkpoint.pt").write_bytes(pickle.dumps({"epoch": Exploit()}))
    result = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "fit.epochs=2", "--run-dir", str(run_dir), "--resume", "--quiet", "--device", "cpu")
    assert result.exit_code == 2 and "cannot resume" in result.output
    assert not marker.exists()


def test_corrupt_and_truncated_checkpoints_are_clear_errors(tmp_path):
    run_dir = tmp_path / "run"
    cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "fit.epochs=1", "--run-dir", str(run_dir), "--quiet", "--device", "cpu")
    data = (run_dir / "checkpoint.pt").read_bytes()
    (run_dir / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    result = cli("train", str(SPECS / "digits_mlp.yaml"), "--set", "fit.epochs=2", "--run-dir", str(run_dir), "--resume", "--quiet", "--device", "cpu")
    assert result.exit_code == 2 and "cannot resume" in result.output and "Traceback" not in result.output
