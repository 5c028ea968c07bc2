"""Larger than memory: `modelspec train` on a 4 GiB memory-mapped .npy, its peak memory and read speed.

Writes x.npy (1,048,576 x 1024 float32, 4 GiB, in 256 MiB chunks through np.lib.format.open_memmap)
and y.npy (binary targets that depend on x) to a temporary folder, and a spec that trains a small MLP
on them (Dense 32 relu, Dense 1 sigmoid; batch 1024, validation_split 0.05). Then, each in a child
process started with x.npy dropped from the page cache (fsync, posix_fadvise DONTNEED):

- the data check alone (load_arrays: every value of x.npy scanned for NaN/inf, as `modelspec train`
  does before training): seconds, MB/s read from disk, peak RSS;
- `modelspec train --device cpu` for one epoch per shuffle mode (true, then batch): the child's peak
  resident memory (/usr/bin/time's maximum RSS, else VmHWM; and the peaks of RssAnon and RssFile
  sampled from /proc every 0.1 s), the wall time, the training time (run.json's duration_s, the validation
  pass included) and the rows and MB of training data read per second of it. The check before the
  epoch leaves the file in the page cache when RAM allows, so these reads are warm reads.

Target: peak RSS under 1.5 GB.

    python benchmarks/memmap.py                     # both modes, full epochs (needs 10 GB free)
    python benchmarks/memmap.py --steps 200         # cap steps_per_epoch (the check still reads the whole file)
    python benchmarks/memmap.py --shuffle batch --dir /data/tmp --keep

Skips (exit 0, with a message) when the folder has less than 10 GB free.
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GB = 1e9
SPEC = """\
name: memmap_bench
sequential:
  - {{type: Dense, units: 32, activation: relu, input_shape: [{features}]}}
  - {{type: Dense, units: 1, activation: sigmoid}}
compile: {{optimizer: adam, loss: binary_crossentropy, metrics: [accuracy]}}
fit: {{epochs: 1, batch_size: {batch_size}, validation_split: {validation_split}}}
data:
  train: {{x: x.npy, y: y.npy}}
"""


def write_data(folder: Path, rows: int, features: int, chunk_rows: int = 65_536) -> None:
    """x.npy (rows x features float32, standard normal) in chunks, y.npy = (sum of the first 8 features > 0)."""
    rng = np.random.default_rng(0)
    x = np.lib.format.open_memmap(folder / "x.npy", mode="w+", dtype=np.float32, shape=(rows, features))
    y = np.empty(rows, dtype=np.float32)
    for start in range(0, rows, chunk_rows):
        stop = min(start + chunk_rows, rows)
        chunk = rng.standard_normal((stop - start, features), dtype=np.float32)
        x[start:stop] = chunk
        y[start:stop] = chunk[:, :8].sum(axis=1) > 0
        x.flush()
        x._mmap.madvise(mmap.MADV_DONTNEED)  # written pages leave this process (they stay in the page cache)
    del x
    np.save(folder / "y.npy", y)


def drop_from_page_cache(path: Path) -> None:
    """Ask the kernel to forget the file's cached pages (no root needed), so the next read is from disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


class Sampler(threading.Thread):
    """Peaks of VmHWM, RssAnon and RssFile (kB) of a process and its descendants, read from /proc every 0.1 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peaks, self.done = pid, {"VmHWM": 0, "RssAnon": 0, "RssFile": 0}, threading.Event()

    def _tree(self) -> list[int]:
        pids, pending = [], [self.pid]
        while pending:
            pid = pending.pop()
            pids.append(pid)
            try:
                pending += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            except (OSError, ValueError):
                pass
        return pids

    def run(self) -> None:
        while not self.done.is_set():
            for pid in self._tree():
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        key, _, value = line.partition(":")
                        if key in self.peaks:
                            self.peaks[key] = max(self.peaks[key], int(value.split()[0]))
                except (OSError, ValueError):
                    pass
            self.done.wait(0.1)


def measured(command: list[str], log: Path) -> dict:
    """Run a command, output to `log`; its wall time and peak resident memory.

    The peak is /usr/bin/time's %M where it is installed (getrusage of a child forked from a small
    process: a child of this Python would inherit this process's RSS at fork in its ru_maxrss),
    else the largest VmHWM sampled from /proc. RssAnon and RssFile are sampled peaks.
    """
    time_file = log.with_suffix(".maxrss")
    timer = ["/usr/bin/time", "-f", "%M", "-o", str(time_file)] if Path("/usr/bin/time").exists() else []
    with open(log, "w") as output:
        began = time.perf_counter()
        process = subprocess.Popen(timer + command, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
        sampler = Sampler(process.pid)
        sampler.start()
        process.wait()
        wall = time.perf_counter() - began
        sampler.done.set()
    text = log.read_text()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed ({process.returncode}):\n{text[-3000:]}")
    peak_kib = int(time_file.read_text().split()[-1]) if timer else sampler.peaks["VmHWM"]
    return {"wall_s": wall, "output": text, "peak_rss_bytes": peak_kib * 1024, "peak_rss_source": "/usr/bin/time" if timer else "VmHWM samples",
            "peak_rss_anon_bytes": sampler.peaks["RssAnon"] * 1024, "peak_rss_file_bytes": sampler.peaks["RssFile"] * 1024}


CHECK = """
import sys, time
from modelspec.checked import check_spec
from modelspec.training.inputs import load_arrays
prepared = check_spec(sys.argv[1])
began = time.perf_counter()
load_arrays(prepared, prepared.spec.data.train, "train")
print(time.perf_counter() - began)
"""


def cold_check(spec: Path, x: Path) -> dict:
    """Seconds and peak RSS of loading and checking the training arrays (every value of x.npy scanned
    for NaN/inf, as `modelspec train` does before training) from a cold page cache, in a child process."""
    drop_from_page_cache(x)
    result = measured([sys.executable, "-c", CHECK, str(spec)], x.parent / "check.log")
    seconds = float(result.pop("output").strip().splitlines()[-1])
    return {"check_s": seconds, "check_mb_per_s": x.stat().st_size / 1e6 / seconds, **result}


def train(spec: Path, run_dir: Path, shuffle: str, steps: int | None) -> dict:
    sets = ["--set", f"fit.shuffle={shuffle}"] + (["--set", f"fit.steps_per_epoch={steps}"] if steps else [])
    command = [sys.executable, "-m", "modelspec_cli.main", "train", str(spec), *sets, "--run-dir", str(run_dir),
               "--device", "cpu", "--json", "--quiet"]
    result = measured(command, run_dir.parent / f"{run_dir.name}.log")
    document = json.loads(result.pop("output").strip().splitlines()[-1])
    info = json.loads((run_dir / "run.json").read_text())
    return {"shuffle": shuffle, "train_s": info["duration_s"], **result, "history": document["history"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_048_576)
    parser.add_argument("--features", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--validation-split", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=None, help="fit.steps_per_epoch (default: the whole epoch)")
    parser.add_argument("--shuffle", default="true,batch", help="comma-separated fit.shuffle modes to run")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the data (default: a new folder in the temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    base = args.dir or Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(base).free
    if free < 10 * GB:
        print(f"skipped: {base} has {free / GB:.1f} GB free; this benchmark writes {args.rows * args.features * 4 / GB:.1f} GB and wants 10 GB free")
        return
    folder = Path(tempfile.mkdtemp(prefix="modelspec-memmap-", dir=base))
    try:
        began = time.perf_counter()
        write_data(folder, args.rows, args.features)
        size = (folder / "x.npy").stat().st_size
        print(f"wrote {folder / 'x.npy'}: {args.rows:,} x {args.features} float32, {size / 2**30:.2f} GiB in {time.perf_counter() - began:.1f} s")
        spec = folder / "spec.yaml"
        spec.write_text(SPEC.format(features=args.features, batch_size=args.batch_size, validation_split=args.validation_split))
        train_rows = int(args.rows * (1 - args.validation_split))
        steps = args.steps or -(-train_rows // args.batch_size)
        row_bytes = args.features * 4
        check = cold_check(spec, folder / "x.npy")
        print(f"load and check (NaN/inf over all of x.npy), cold page cache: {check['check_s']:.1f} s, {check['check_mb_per_s']:.0f} MB/s, "
              f"peak RSS {check['peak_rss_bytes'] / GB:.2f} GB (file-backed {check['peak_rss_file_bytes'] / GB:.2f})")
        results = []
        for shuffle in args.shuffle.split(","):
            drop_from_page_cache(folder / "x.npy")
            result = train(spec, folder / f"run-{shuffle}", shuffle, args.steps)
            read_rows = min(steps * args.batch_size, train_rows)
            result.update(steps=steps, train_rows_read=read_rows,
                          rows_per_s=read_rows / result["train_s"], mb_per_s=read_rows * row_bytes / 1e6 / result["train_s"])
            result["load_average"] = os.getloadavg()
            results.append(result)
            print(f"shuffle={shuffle}: peak RSS {result['peak_rss_bytes'] / GB:.2f} GB (anon {result['peak_rss_anon_bytes'] / GB:.2f}, "
                  f"file-backed {result['peak_rss_file_bytes'] / GB:.2f}), {steps} steps in {result['train_s']:.1f} s of training "
                  f"({result['wall_s']:.1f} s wall: start, check, validation, files): "
                  f"{result['rows_per_s']:,.0f} rows/s, {result['mb_per_s']:.0f} MB/s; "
                  f"load average {result['load_average'][0]:.1f}; "
                  f"loss {result['history']['loss'][-1]:.4f}, val_accuracy {result['history'].get('val_accuracy', [float('nan')])[-1]:.3f}")
        if args.json:
            args.json.write_text(json.dumps({"rows": args.rows, "features": args.features, "bytes": size, "check": check, "results": results}, indent=2) + "\n")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
