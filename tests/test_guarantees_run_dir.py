"""The README's guarantees about the run directory, against hostile folders, files, signals and full disks (issue 15).

Each test names the guarantee it holds: --overwrite replaces only a run, links are never followed,
killed writes leave nothing behind, a checkpoint is checked before it is used, a refused write is an
error that keeps the previous checkpoint, SIGTERM ends a run as Ctrl-C does, and a bad --device,
sample weight, class weight or weights dtype is refused before anything is written.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import resource
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.numpy import load_file, save_file

from modelspec.checked import check_spec
from modelspec.errors import DataError, ModelspecError, SpecError, UsageError
from modelspec.training import inputs
from modelspec.training.run import TrainingRun, resolve_device
from modelspec_cli.main import main
from tests.helpers import write

TINY = """
name: tiny
sequential:
  - {type: Dense, units: 8, activation: relu, input_shape: [4]}
  - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 16}
data: {train: {synthetic: {samples: 64}}}
"""


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def train(spec: Path, run_dir: Path, *flags: str):
    return cli("train", spec, "--run-dir", run_dir, "--quiet", "--device", "cpu", *flags)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` and its bytes (links as their target's name)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            found[str(path.relative_to(folder))] = os.readlink(path).encode()
        elif path.is_file():
            found[str(path.relative_to(folder))] = path.read_bytes()
    return found


def refused(result, *words: str) -> None:
    """Exit 2, each of `words` in the message, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    for word in words:
        assert word in result.output, result.output


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    return write(tmp_path, TINY)


@pytest.fixture
def trained(spec: Path, tmp_path: Path) -> Path:
    """A finished 1-epoch run of the tiny spec."""
    run_dir = tmp_path / "run"
    assert train(spec, run_dir, "--set", "fit.epochs=1").exit_code == 0
    return run_dir


# ----- 1. --overwrite replaces a run, never another folder ----------------------------------------
def test_overwrite_refuses_a_folder_that_holds_no_run(tmp_path, spec):
    np.savez(tmp_path / "data.npz", x=np.zeros((2, 4)))
    (tmp_path / "notes.txt").write_text("my notes")
    before = snapshot(tmp_path)
    result = train(spec, tmp_path, "--overwrite")
    refused(result, f"'{tmp_path}' is not empty and is not a modelspec run directory")
    assert snapshot(tmp_path) == before


def test_a_run_json_of_another_program_is_not_a_run(tmp_path, spec):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"status": "done", "tool": "something else"}))
    (folder / "model.safetensors").write_bytes(b"theirs")
    before = snapshot(folder)
    refused(train(spec, folder, "--overwrite"), "is not a modelspec run directory")
    assert snapshot(folder) == before


def test_overwrite_replaces_only_the_runs_own_files(trained, spec):
    (trained / "notes.txt").write_text("kept")
    (trained / "plots").mkdir()
    (trained / "plots" / "loss.png").write_bytes(b"png")
    old_checkpoint = (trained / "checkpoint.pt").read_bytes()
    result = train(spec, trained, "--overwrite", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert (trained / "notes.txt").read_text() == "kept" and (trained / "plots" / "loss.png").read_bytes() == b"png"
    assert (trained / "checkpoint.pt").read_bytes() != old_checkpoint
    info = json.loads((trained / "run.json").read_text())
    assert info["seed"] == 3 and "notes.txt" not in info["files"] and "checkpoint.pt" in info["files"]


def test_without_overwrite_an_existing_run_or_folder_is_refused(trained, spec):
    before = snapshot(trained)
    refused(train(spec, trained), "already holds a run", "--overwrite")
    assert snapshot(trained) == before


# ----- 3. links in a run directory are never followed ---------------------------------------------
def test_a_planted_lock_link_is_refused_and_its_target_not_created(tmp_path, spec):
    run_dir, target = tmp_path / "run", tmp_path / "elsewhere" / "created"
    run_dir.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (run_dir / ".lock").symlink_to(target)
    refused(train(spec, run_dir), "symbolic link", ".lock")
    assert not target.exists() and [p.name for p in run_dir.iterdir()] == [".lock"]


def test_links_in_a_run_to_resume_are_refused(trained, spec, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("not the run's")
    (trained / "history.csv").unlink()
    (trained / "history.csv").symlink_to(outside)
    before = snapshot(trained)
    refused(train(spec, trained, "--resume", "--set", "fit.epochs=2"), "symbolic link", "history.csv")
    assert outside.read_text() == "not the run's" and snapshot(trained) == before


def test_a_run_directory_that_is_itself_a_link_is_used(tmp_path, spec):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    assert train(spec, tmp_path / "link", "--set", "fit.epochs=1").exit_code == 0
    assert (real / "checkpoint.pt").is_file()


def test_atomic_write_replaces_a_link_instead_of_writing_through_it(tmp_path):
    from modelspec.files import atomic_write_text

    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    (tmp_path / "run.json").symlink_to(victim)
    atomic_write_text(tmp_path / "run.json", "{}")
    assert victim.read_text() == "untouched" and not (tmp_path / "run.json").is_symlink()


# ----- 5. killed writes leave nothing behind ------------------------------------------------------
def test_leftover_temporary_files_are_removed_on_resume_and_start(trained, spec, tmp_path):
    leftovers = [trained / ".checkpoint.pt.a1b2c3d4.tmp", trained / ".run.json.zz_9yx8w.tmp", trained / ".history.csv.0000abcd.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a file")
    (trained / ".notes.tmp").write_text("not one of ours")  # not atomic_write's pattern: kept
    assert train(spec, trained, "--resume", "--set", "fit.epochs=2").exit_code == 0
    assert not any(p.exists() for p in leftovers) and (trained / ".notes.tmp").exists()
    killed_early = tmp_path / "early"  # killed before run.json: only the lock and a temporary file
    killed_early.mkdir()
    (killed_early / ".lock").write_text("")
    (killed_early / ".run.json.k1ll3d00.tmp").write_text("{")
    assert train(spec, killed_early, "--set", "fit.epochs=1").exit_code == 0
    assert not [p for p in killed_early.iterdir() if p.name.endswith(".tmp")]


# ----- 11. a checkpoint is checked before it is used ----------------------------------------------
def _member_data_offset(path: Path, suffix: str) -> int:
    """Where the bytes of the zip member ending in `suffix` start in the file."""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith(suffix))
    with open(path, "rb") as handle:
        handle.seek(info.header_offset + 26)
        name_length, extra_length = struct.unpack("<HH", handle.read(4))
    return info.header_offset + 30 + name_length + extra_length


def _record_checkpoint(run_dir: Path) -> None:
    """Record the checkpoint's current sha256 in run.json, as if modelspec had written it (to reach the later checks)."""
    info = json.loads((run_dir / "run.json").read_text())
    info["sha256"] = {"checkpoint.pt": [sha256(run_dir / "checkpoint.pt")]}
    (run_dir / "run.json").write_text(json.dumps(info))


def _resume(spec: Path, run_dir: Path):
    return train(spec, run_dir, "--resume", "--set", "fit.epochs=2")


def test_altered_tensor_bytes_are_refused_by_checksum_and_by_crc(trained, spec):
    path = trained / "checkpoint.pt"
    data = bytearray(path.read_bytes())
    data[_member_data_offset(path, "data/0")] ^= 0xFF
    path.write_bytes(bytes(data))
    before = snapshot(trained)
    refused(_resume(spec, trained), "cannot resume", str(path), "sha256")
    assert snapshot(trained) == before
    info = json.loads((trained / "run.json").read_text())
    del info["sha256"]  # a run that recorded no checksum: the archive's CRCs still catch it
    (trained / "run.json").write_text(json.dumps(info))
    refused(_resume(spec, trained), "cannot resume", "fails its CRC check")


def test_a_rewritten_checkpoint_with_valid_crcs_is_refused_by_its_checksum(trained, spec):
    path = trained / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    state["model"] = {name: tensor + 1 for name, tensor in state["model"].items()}
    torch.save(state, path)
    refused(_resume(spec, trained), "cannot resume", "sha256 is not the one run.json recorded")


@pytest.mark.parametrize(("change", "named"), [
    (lambda s: s.pop("rng"), "'rng' is missing"),
    (lambda s: s.update(epoch="1"), "'epoch' is str '1', expected int"),
    (lambda s: s.update(history=[1, 2]), "'history' is a list, expected dict"),
    (lambda s: s["model"].update({next(iter(s["model"])): torch.zeros(9)}), "is torch.float32 (9,), the model has torch.float32 (8, 4)"),
    (lambda s: s["optimizer"]["state"][0].update(momentum=torch.zeros(2)), "'optimizer.state.0.momentum' is torch.float32 (2,)"),
    (lambda s: s.update(callbacks=[{}]), "'callbacks' holds 1 entries"),
])
def test_a_checkpoint_entry_missing_or_of_another_type_is_refused_before_anything_is_written(trained, spec, change, named):
    path = trained / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    change(state)
    torch.save(state, path)
    _record_checkpoint(trained)
    before = snapshot(trained)
    refused(_resume(spec, trained), "cannot resume", str(path), named)
    assert snapshot(trained) == before


def test_a_checkpoint_that_declares_3_gib_is_refused_before_it_is_inflated(trained, spec, monkeypatch):
    def inflate(*args, **kwargs):
        raise AssertionError("torch.load read the archive before its sizes were checked")

    monkeypatch.setattr(torch, "load", inflate)
    path = trained / "checkpoint.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    data = bytearray(path.read_bytes())
    directory = data.rindex(b"PK\x01\x02")  # the central directory's entry: its uncompressed size at +24
    data[directory + 24:directory + 28] = struct.pack("<I", 3 * 2**30)
    path.write_bytes(bytes(data))
    _record_checkpoint(trained)
    refused(_resume(spec, trained), "cannot resume", "inflate to 3.00 GB", "nothing was read")


def test_an_untouched_checkpoint_resumes(trained, spec):
    result = _resume(spec, trained)
    assert result.exit_code == 0, result.output
    info = json.loads((trained / "run.json").read_text())
    assert info["status"] == "finished" and info["sha256"]["checkpoint.pt"][0] == sha256(trained / "checkpoint.pt")


# ----- 14. a write the disk refuses is an error that keeps the previous checkpoint ----------------
def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # then a write past the limit fails with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_room_for_the_weights_but_not_the_checkpoint_is_a_clear_error(trained, spec, tmp_path):
    kept = (trained / "checkpoint.pt").read_bytes()
    limit = 4096
    assert (trained / "model.safetensors").stat().st_size < limit < len(kept)
    command = [sys.executable, "-m", "modelspec_cli.main", "train", str(spec), "--run-dir", str(trained), "--resume", "--set", "fit.epochs=2",
               "--device", "cpu", "--quiet"]
    env = {**os.environ, "MODELSPEC_CACHE_DIR": "off", "PYTHONDONTWRITEBYTECODE": "1"}
    full = subprocess.run(command, check=False, capture_output=True, text=True, env=env, preexec_fn=_limit_file_size(limit), timeout=120)
    assert full.returncode == 2, full.stderr
    assert "File too large" in full.stderr and "previous checkpoint is kept" in full.stderr and "Traceback" not in full.stderr
    assert (trained / "checkpoint.pt").read_bytes() == kept
    assert json.loads((trained / "run.json").read_text())["status"] == "failed"
    assert not [p for p in trained.iterdir() if p.name.endswith(".tmp")]
    assert _resume(spec, trained).exit_code == 0
    whole = train(spec, tmp_path / "whole")
    assert whole.exit_code == 0
    x, y = load_file(str(trained / "model.safetensors")), load_file(str(tmp_path / "whole" / "model.safetensors"))
    assert all(np.array_equal(x[k], y[k]) for k in x)


def test_a_full_disk_in_safetensors_words_is_reported_as_one(trained, spec, monkeypatch):
    import safetensors.torch
    from safetensors import SafetensorError

    def full_disk(*args, **kwargs):
        raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    kept = (trained / "checkpoint.pt").read_bytes()
    refused(_resume(spec, trained), "No space left on device", "previous checkpoint is kept (checkpoint.pt, 1 epoch(s) done)")
    assert (trained / "checkpoint.pt").read_bytes() == kept


def test_predict_output_on_an_unwritable_place_is_a_clear_error(trained, spec, tmp_path, monkeypatch):
    x = tmp_path / "x.npz"
    np.savez(x, x=np.zeros((3, 4), dtype=np.float32))
    weights = trained / "model.safetensors"
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    refused(cli("predict", spec, "--weights", weights, "--data", x, "--output", blocker / "out.npz", "--device", "cpu"),
            f"--output '{blocker / 'out.npz'}': cannot write it", "nothing was written")
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    refused(cli("predict", spec, "--weights", weights, "--data", x, "--output", tmp_path / "out.npz", "--device", "cpu"), "Read-only file system")
    assert not (tmp_path / "out.npz").exists()


# ----- 16. SIGTERM ends a run as Ctrl-C does --------------------------------------------------------
def test_sigterm_keeps_the_checkpoint_records_interrupted_and_exits_143(spec, tmp_path):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "modelspec_cli.main", "train", str(spec), "--run-dir", str(run_dir), "--device", "cpu", "--quiet"]
    process = subprocess.Popen([*command, "--set", "fit.epochs=100000"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _epochs_done(run_dir) < 1:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "interrupted: continue with" in stderr and "Traceback" not in stderr
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted"
    resumed = TrainingRun(check_spec(spec, [f"fit.epochs={info['epochs_done'] + 1}"]), run_dir, resume=True, device="cpu").fit()
    assert resumed.status == "finished" and resumed.epochs == info["epochs_done"] + 1


def _epochs_done(run_dir: Path) -> int:
    try:
        return json.loads((run_dir / "run.json").read_text())["epochs_done"]
    except (OSError, ValueError, KeyError):
        return 0


# ----- 12. --device is checked before anything is written -------------------------------------------
@pytest.mark.parametrize("device", ["tpu", "meta", "", "cuda:x", "cpu:0"])
def test_an_unknown_device_is_refused_before_anything_is_written(spec, tmp_path, device):
    result = cli("train", spec, "--run-dir", tmp_path / "run", "--quiet", "--device", device)
    refused(result, f"--device {device!r}", "'auto', 'cpu', 'cuda', 'cuda:N'")
    assert not (tmp_path / "run").exists()


def test_evaluate_and_predict_check_the_device_too(trained, spec, tmp_path):
    x = tmp_path / "x.npz"
    np.savez(x, x=np.zeros((3, 4), dtype=np.float32), y=np.eye(3, dtype=np.float32))
    weights = trained / "model.safetensors"
    refused(cli("evaluate", spec, "--weights", weights, "--data", x, "--device", "meta"), "--device 'meta'")
    refused(cli("predict", spec, "--weights", weights, "--data", x, "--output", tmp_path / "o.npz", "--device", "tpu"), "--device 'tpu'")
    assert not (tmp_path / "o.npz").exists()


def test_a_cuda_index_this_machine_lacks_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(UsageError, match=r"--device cuda:2: this machine has 2 CUDA device\(s\), cuda:0 to cuda:1"):
        resolve_device("cuda:2")


# ----- 13, 9. sample and class weights --------------------------------------------------------------
def _with_fit(tmp_path: Path, fit: str) -> Path:
    return write(tmp_path, TINY.replace("fit: {epochs: 2, batch_size: 16}", f"fit: {{epochs: 1, batch_size: 16, {fit}}}"), "weighted.yaml")


@pytest.mark.parametrize(("bad", "shown"), [(np.nan, "nan"), (np.inf, "inf"), (-1.0, "-1.0")])
def test_a_bad_sample_weight_is_refused_naming_the_file_and_index(tmp_path, bad, shown):
    weights = np.ones(64, dtype=np.float32)
    weights[[5, 9]] = bad
    np.save(tmp_path / "w.npy", weights)
    spec = _with_fit(tmp_path, "sample_weight: w.npy")
    with pytest.raises(DataError, match=rf"fit.sample_weight: 'w.npy' holds {shown} at index 5 \(2 bad weight\(s\) in all\)"):
        TrainingRun(check_spec(spec), tmp_path / "run", device="cpu")
    assert not (tmp_path / "run").exists()


def test_a_class_weight_index_beyond_the_classes_is_refused_without_a_table(tmp_path):
    spec = _with_fit(tmp_path, "class_weight: {0: 1.0, 1000000000: 2.0}")
    with pytest.raises(SpecError, match="fit.class_weight names class 1000000000, but output '.*' has 3 classes \\(0 to 2\\)"):
        TrainingRun(check_spec(spec), tmp_path / "run", device="cpu")
    assert not (tmp_path / "run").exists()


def test_class_weights_weigh_each_sample_by_its_class(tmp_path):
    spec = _with_fit(tmp_path, "class_weight: {0: 0.5, 2: 4.0}")
    prepared = check_spec(spec)
    arrays = inputs.load_arrays(prepared, prepared.spec.data.train, "train")
    labels = next(a for name, a in arrays.items() if a.ndim == 2 and a.shape[1] == 3).argmax(axis=1)
    expected = np.array([{0: 0.5, 2: 4.0}.get(int(c), 1.0) for c in labels], dtype=np.float32)
    assert len(set(labels)) == 3
    np.testing.assert_array_equal(inputs.sample_weights(prepared, arrays), expected)


# ----- 17. weights of another dtype -----------------------------------------------------------------
def test_integer_weights_of_the_right_shapes_are_refused_and_half_precision_is_cast(trained, spec, tmp_path):
    tensors = load_file(str(trained / "model.safetensors"))
    save_file({name: array.astype(np.int32) for name, array in tensors.items()}, str(tmp_path / "int.safetensors"))
    save_file({name: array.astype(np.float16) for name, array in tensors.items()}, str(tmp_path / "half.safetensors"))
    x = tmp_path / "x.npz"
    np.savez(x, x=np.ones((3, 4), dtype=np.float32))
    result = cli("predict", spec, "--weights", tmp_path / "int.safetensors", "--data", x, "--output", tmp_path / "o.npz", "--device", "cpu")
    refused(result, "is torch.int32, the model needs torch.float32", next(iter(tensors)))
    assert not (tmp_path / "o.npz").exists()
    half = cli("predict", spec, "--weights", tmp_path / "half.safetensors", "--data", x, "--output", tmp_path / "o.npz", "--device", "cpu")
    assert half.exit_code == 0, half.output


def test_every_write_error_is_a_modelspec_error_for_the_cli(tmp_path, monkeypatch):
    """A write that fails in the run directory is a ModelspecError (exit 2), whatever the writer called it."""
    from modelspec import files

    def refuse(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", refuse)
    run = TrainingRun(check_spec(write(tmp_path, TINY)), tmp_path / "run", device="cpu")
    with pytest.raises(ModelspecError, match="No space left on device; no checkpoint was written"):
        run.fit()
