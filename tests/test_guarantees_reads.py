"""The README's guarantees on reads: every spec and data read is bounded before it happens.

Reads that would hang or exhaust memory without the checks run in a child process bounded in
address space and time, so a regression fails the test instead of taking the machine.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import resource
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from pydantic import TypeAdapter

from modelspec import resources, source
from modelspec.checked import check_spec
from modelspec.data.arrays import ArraySpec
from modelspec.data.batches import Batches
from modelspec.data.config import DataSource
from modelspec.data.loading import load_source
from modelspec.errors import DataError, SpecError
from modelspec.resources import ResourceError, check_memory
from modelspec_cli.main import main

ADDRESS_SPACE = 3 << 30  # a child may map 3 GiB: enough to import torch's CPU libraries, not to read /dev/zero whole


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def modelspec(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`python -m modelspec ARGS` in a child bounded to ADDRESS_SPACE and `timeout` seconds."""
    return subprocess.run([sys.executable, "-m", "modelspec", *args], capture_output=True, text=True, timeout=timeout, check=False,
                          preexec_fn=_bounded, env={**os.environ, "MODELSPEC_CACHE_DIR": "off"})


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


@pytest.fixture
def huge(tmp_path: Path) -> Path:
    """A sparse 1.5 GiB file: no disk used, but reading it whole takes 1.5 GiB."""
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(3 << 29)
    return path


def _special(kind: str, tmp_path: Path, fifo: Path, huge: Path) -> tuple[Path, str]:
    """(path, words the refusal must contain) for one kind of unreadable spec path."""
    loop = tmp_path / "loop.yaml"
    if kind == "loop":
        os.symlink(loop, loop)
    return {
        "/dev/zero": (Path("/dev/zero"), "it is a character device, not a regular file"),
        "fifo": (fifo, "it is a FIFO (named pipe), not a regular file"),
        "directory": (tmp_path, "it is a directory, not a regular file"),
        "loop": (loop, "it is a symbolic link loop (the links never reach a file)"),
        "huge": (huge, "the file is 1,610,612,736 bytes or more, more than the 16,777,216 (16 MiB) a spec may have"),
    }[kind]


KINDS = ["/dev/zero", "fifo", "directory", "loop", "huge"]


# ----- item 8: spec files are checked for kind and size before they are read ----------------------
@pytest.mark.parametrize("kind", KINDS)
def test_validate_refuses_a_spec_path_that_is_not_a_small_regular_file(kind, tmp_path, fifo, huge):
    path, words = _special(kind, tmp_path, fifo, huge)
    words = "is a directory" if kind == "directory" else words  # click's check of SPECS says it first
    result = modelspec("validate", str(path), timeout=30)
    assert result.returncode == 2, result.stderr[-2000:]
    assert words in result.stderr and str(path) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_a_sub_model_spec_that_is_not_a_small_regular_file_is_a_located_error(kind, tmp_path, fifo, huge):
    target, words = _special(kind, tmp_path, fifo, huge)
    outer = tmp_path / "outer.yaml"
    outer.write_text(textwrap.dedent(f"""\
        name: outer
        inputs: {{x: {{shape: [4]}}}}
        layers:
          - type: Model
            name: inner
            model: {{spec: "{target}"}}
            inputs: x
        outputs: inner
        """))
    result = modelspec("validate", str(outer), timeout=30)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"{outer}:6:19: cannot read spec '{target}': {words}" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_a_spec_read_stops_after_the_cap_even_when_the_size_check_passed(tmp_path, monkeypatch):
    """A file growing between the size check and the read: at most MAX_BYTES + 1 bytes are read."""
    path = tmp_path / "growing.yaml"
    path.write_bytes(b"#" * (source.MAX_BYTES + 4096))
    monkeypatch.setattr(source, "check_regular", lambda _: 0)  # the file was empty when checked
    with pytest.raises(SpecError, match=r"16,777,217 bytes or more, more than the 16,777,216") as caught:
        source.load_file(path)
    assert caught.value.problems[0].file == str(path)


# ----- item 17: a data path that is not a regular file says what it is --------------------------------
SPARSE = [ArraySpec("features", (None, 4), "float32", "input"),
          ArraySpec("label", (None,), "int64", "target", num_classes=3, label_kind="sparse")]


def load(value, expected, base: Path, split: str = "train"):
    return load_source(TypeAdapter(DataSource).validate_python(value), expected, base, split)


def test_data_paths_that_are_not_regular_files_say_what_they_are(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.npy")
    os.mkfifo(tmp_path / "pipe.csv")
    os.symlink(tmp_path / "loop.npz", tmp_path / "loop.npz")
    with pytest.raises(DataError) as caught:
        load({"x": "zero.npy", "y": "pipe.csv"}, SPARSE, tmp_path)
    message = str(caught.value)
    assert f"cannot read 'zero.npy': it is a character device, not a regular file (looked for {tmp_path / 'zero.npy'})" in message
    assert "cannot read 'pipe.csv': it is a FIFO (named pipe), not a regular file" in message
    with pytest.raises(DataError, match=r"cannot read 'loop.npz': it is a symbolic link loop"):
        load("loop.npz", SPARSE, tmp_path)
    os.symlink(tmp_path / "gone.npz", tmp_path / "dangling.npz")
    with pytest.raises(DataError, match=r"cannot read 'dangling.npz': it is a symbolic link to a missing file"):
        load("dangling.npz", SPARSE, tmp_path)


# ----- item 10: the shuffle index takes 4 bytes a row, and "batch" 4 bytes a batch ------------------
def _peak_rss_growth(action) -> int:
    """Bytes the process's peak resident memory grows by while `action()` runs (Linux: VmHWM, reset first)."""
    def hwm() -> int:
        with open("/proc/self/status") as status:
            return int(re.search(r"VmHWM:\s+(\d+) kB", status.read()).group(1)) * 1024
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # the peak restarts from the current resident size
    except OSError:
        pytest.skip("this kernel does not let a process reset its peak memory")
    before = hwm()
    action()
    return hwm() - before


#: Bytes a row the first batch may add to the peak: the index (4, or 4 / 32 for "batch"), plus up to
#: the whole 1-byte-a-row file's pages, faulted in around the rows read (int64 indices took 8 and 16).
@pytest.mark.parametrize(("shuffle", "bytes_per_row"), [(True, 6.0), ("batch", 1.5)])
def test_the_shuffle_index_of_on_disk_data_is_small(tmp_path, shuffle, bytes_per_row):
    rows = 1 << 22
    np.save(tmp_path / "x.npy", np.zeros(rows, np.uint8))
    batches = Batches({"x": np.load(tmp_path / "x.npy", mmap_mode="r")}, batch_size=32)
    first = lambda: next(iter(batches.epoch(shuffle=shuffle, generator=torch.Generator().manual_seed(0))))
    growth = _peak_rss_growth(first)
    assert growth <= bytes_per_row * rows, f"{growth / rows:.1f} bytes a row"


def test_shuffled_batches_keep_the_int64_permutation():
    """The same rows as torch.randperm's int64 permutation for the same seed: resumed runs stay bit for bit."""
    rows = np.arange(1000)
    batches = Batches({"i": rows}, batch_size=64)
    seen = np.concatenate([b["i"].numpy() for b, _ in batches.epoch(shuffle=True, generator=torch.Generator().manual_seed(7))])
    np.testing.assert_array_equal(seen, torch.randperm(1000, generator=torch.Generator().manual_seed(7)).numpy())


# ----- item 9: declared and computed sizes are compared with the memory available before allocating --
MiB = 1 << 20


@pytest.fixture
def memory(monkeypatch):
    """Pretend this machine has `memory(n)` bytes available."""
    return lambda available: monkeypatch.setattr(resources, "available_memory", lambda: available)


def test_an_npz_member_inflating_past_the_memory_is_refused_from_its_header(tmp_path, memory):
    np.savez_compressed(tmp_path / "bomb.npz", features=np.zeros((2 * MiB, 4), np.float32), label=np.zeros(2 * MiB, np.int64))
    assert (tmp_path / "bomb.npz").stat().st_size < MiB // 4  # 48 MiB of zeros
    memory(16 * MiB)
    with pytest.raises(ResourceError) as caught:
        load("bomb.npz", SPARSE, tmp_path)
    assert str(caught.value) == (
        "data.train: array 'features' of 'bomb.npz' (shape (2097152, 4), float32) would take about 32.00 MB of memory, "
        "more than the 16.00 MB available here; nothing was allocated (use --force to try anyway)")
    assert load_source("bomb.npz", SPARSE, tmp_path, "train", force=True)["features"].shape == (2 * MiB, 4)


def _npz_with_header(path: Path, shape: tuple[int, ...], data: bytes) -> None:
    """An .npz whose member 'features' declares `shape` (float32) and holds `data`."""
    member = io.BytesIO()
    np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("features.npy", member.getvalue() + data)


def test_an_npz_member_declaring_more_than_it_holds_is_a_data_error(tmp_path):
    _npz_with_header(tmp_path / "liar.npz", (10**12, 4), b"\0" * 16)
    with pytest.raises(DataError) as caught:
        load({"x": "liar.npz"}, SPARSE[:1], tmp_path)
    assert str(caught.value) == (
        "data.train: cannot read array 'features' of 'liar.npz': its header declares shape (1000000000000, 4), float32 "
        "(14901.16 GB), but it holds 16 bytes: the archive is corrupt or truncated")


def test_a_csv_gz_inflating_past_the_memory_is_refused_while_it_streams(tmp_path, memory):
    row = b",".join([b"0"] * 1024) + b"\n"
    with gzip.open(tmp_path / "bomb.csv.gz", "wb", compresslevel=1) as handle:
        handle.write(row * 16384)  # 32 MiB of text, 16 Mi numbers: 128 MiB as float64
    memory(8 * MiB)
    with pytest.raises(ResourceError) as caught:
        load({"x": "bomb.csv.gz"}, SPARSE[:1], tmp_path)
    message = str(caught.value)
    assert message.startswith("data.train: 'bomb.csv.gz' holds more than 1,048,576 numbers (in its first 16.00 MB of text)")
    assert message.endswith("as float64 they would take more than the 8.00 MB of memory available here; "
                            "nothing was allocated (use --force to try anyway)")


def test_a_csv_with_a_huge_first_row_reads_only_its_start_to_find_a_header(tmp_path):
    """Telling a header from numbers reads 64 KiB of the first row, not a list of its million cells."""
    cells = 1 << 20
    (tmp_path / "wide.csv").write_text(",".join(["1.5"] * cells) + "\n")
    expected = [ArraySpec("x", (None, cells), "float32", "input")]
    loaded = {}
    growth = _peak_rss_growth(lambda: loaded.update(load({"x": "wide.csv"}, expected, tmp_path)))
    assert loaded["x"].shape == (1, cells)
    # ~41 here: the float64 (8) and loadtxt's text of the line; listing the row's cells as str took ~98
    assert growth < 60 * cells, f"{growth / cells:.0f} bytes a cell"


@pytest.mark.parametrize("samples", [10**12, 2 * 10**8])
def test_synthetic_samples_are_sized_before_they_are_drawn(tmp_path, memory, samples):
    memory(2 << 30)
    with pytest.raises(ResourceError) as caught:
        load({"synthetic": {"samples": samples}}, SPARSE, tmp_path)
    needed = samples * 4 * 4
    assert str(caught.value) == (
        f"data.train: synthetic array 'features' of shape ({samples}, 4) (float32) would take about "
        f"{resources.readable_size(needed)} of memory, more than the 2.00 GB available here; nothing was allocated (use --force to try anyway)")


REPEAT = """\
name: repeat
sequential:
  - {type: Dense, units: 8, input_dim: 4}
  - {type: RepeatVector, n: 100000000}
compile: {loss: mse}
fit: {batch_size: 32, epochs: 1}
data: {train: {synthetic: {samples: 2}}}
"""


def test_one_batch_of_activations_counts_in_the_model_size(tmp_path):
    (tmp_path / "repeat.yaml").write_text(REPEAT)
    graph = check_spec(tmp_path / "repeat.yaml").graph
    activations = 32 * (4 + 8 + 100_000_000 * 8) * 4
    check_memory(graph, training=False, available=activations + 40 * 4, batch_size=32)  # inputs, dense, repeat_vector + weights
    with pytest.raises(ResourceError, match="for the activations of a batch of 32, more than"):
        check_memory(graph, training=False, available=activations + 40 * 4 - 1, batch_size=32)
    with pytest.raises(ResourceError) as caught:
        check_memory(graph, training=True, available=activations + 40 * 16, batch_size=32)
    assert str(caught.value) == (
        "model 'repeat' has 40 parameters: about 640 B to train (weights, gradients and optimizer state) and "
        f"{resources.readable_size(2 * activations)} for the activations of a batch of 32 (and their gradients), more than the "
        f"{resources.readable_size(activations + 40 * 16)} of memory available here; nothing was allocated (use --force to try anyway)")
    result = CliRunner().invoke(main, ["train", str(tmp_path / "repeat.yaml"), "--quiet", "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 2 and "for the activations of a batch of 32" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_force_trains_past_a_data_size_refusal(tmp_path, memory):
    np.savez_compressed(tmp_path / "train.npz", x=np.zeros((MiB, 4), np.float32), y=np.zeros((MiB, 1), np.float32))
    (tmp_path / "spec.yaml").write_text(textwrap.dedent("""\
        name: big
        sequential: [{type: Dense, units: 1, input_dim: 4}]
        compile: {loss: mse}
        fit: {batch_size: 65536, epochs: 1, shuffle: false}
        data: {train: train.npz}
        """))
    memory(12 * MiB)
    train = ["train", str(tmp_path / "spec.yaml"), "--quiet", "--device", "cpu", "--run-dir"]
    refused = CliRunner().invoke(main, [*train, str(tmp_path / "refused")])
    assert refused.exit_code == 2 and "array 'x' of 'train.npz' (shape (1048576, 4), float32) would take about 16.00 MB" in refused.output
    assert "--force" in refused.output and not (tmp_path / "refused").exists()
    forced = CliRunner().invoke(main, [*train, str(tmp_path / "forced"), "--force"])
    assert forced.exit_code == 0, forced.output


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_evaluate_and_predict_take_force_as_their_messages_say(tmp_path, memory, command):
    """A size refusal says '--force tries anyway': evaluate and predict take it too."""
    from modelspec.torch_build import build_module
    from modelspec.weights import save_weights

    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent("""
        name: repeat
        sequential:
          - {type: Dense, units: 4, input_shape: [3]}
          - {type: RepeatVector, n: 4096}
          - {type: Flatten}
          - {type: Dense, units: 1}
        compile: {loss: mse}
        fit: {batch_size: 32}
    """))
    save_weights(build_module(check_spec(spec).graph), tmp_path / "w.safetensors")
    np.savez(tmp_path / "data.npz", x=np.zeros((8, 3), np.float32), y=np.zeros((8, 1), np.float32))
    arguments = [command, str(spec), "--weights", str(tmp_path / "w.safetensors"), "--data", str(tmp_path / "data.npz")]
    arguments += ["--output", str(tmp_path / "out.npz")] if command == "predict" else []
    memory(MiB)  # one batch of activations alone is 32 x 4096 x 4 values x 4 bytes = 2 MiB
    refused = CliRunner().invoke(main, arguments)
    assert refused.exit_code == 2 and "--force" in refused.output and "Traceback" not in refused.output, refused.output
    assert not (tmp_path / "out.npz").exists()
    forced = CliRunner().invoke(main, [*arguments, "--force"])
    assert forced.exit_code == 0, forced.output
