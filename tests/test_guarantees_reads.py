"""The README's guarantees on reads: every spec and data read is bounded before it happens.

Reads that would hang or exhaust memory without the checks run in a child process bounded in
address space and time, so a regression fails the test instead of taking the machine.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import TypeAdapter

from modelspec import source
from modelspec.data import ArraySpec, DataSource, load_source
from modelspec.errors import DataError, SpecError
from modelspec.training.batches import Batches

ADDRESS_SPACE = 3 << 30  # a child may map 3 GiB: enough to import torch's CPU libraries, not to read /dev/zero whole


def _bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def modelspec(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`python -m modelspec ARGS` in a child bounded to ADDRESS_SPACE and `timeout` seconds."""
    return subprocess.run([sys.executable, "-m", "modelspec", *args], capture_output=True, text=True, timeout=timeout,
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
    first = lambda: next(iter(batches.epoch(shuffle=shuffle, generator=torch.Generator().manual_seed(0))))  # noqa: E731
    growth = _peak_rss_growth(first)
    assert growth <= bytes_per_row * rows, f"{growth / rows:.1f} bytes a row"


def test_shuffled_batches_keep_the_int64_permutation():
    """The same rows as torch.randperm's int64 permutation for the same seed: resumed runs stay bit for bit."""
    rows = np.arange(1000)
    batches = Batches({"i": rows}, batch_size=64)
    seen = np.concatenate([b["i"].numpy() for b, _ in batches.epoch(shuffle=True, generator=torch.Generator().manual_seed(7))])
    np.testing.assert_array_equal(seen, torch.randperm(1000, generator=torch.Generator().manual_seed(7)).numpy())
