"""modelspec's speed against a hand-written PyTorch loop (and Keras 3 on torch, where it imports).

One invocation measures, on the same synthetic arrays (written once to a temporary folder):

- training, per model (the MNIST MLP, the stacked LSTM, the headline model, a small CNN):
  * epoch: seconds of one epoch (training, validation, the epoch's logs) of modelspec's in-process
    `TrainingRun.fit`, each beside one epoch of `benchmarks/expert.py`'s loop run from a callback
    (before and after in turn), so that both meet the same load; the ratio is the median of the
    pairs' ratios (the first pair, a warm-up, is not counted);
  * fit: a whole `TrainingRun` (data loaded and checked, checkpoints written) against the expert
    loop loading the same .npz and training, in process, alternated;
  * process: the whole `modelspec train ... --quiet` process against `python benchmarks/expert.py`;
  * Keras 3 (torch backend) epochs in a child process, when `keras` imports with `--keras-python`;
- the command line: `modelspec --help`, `validate` and `summary` (median of several processes),
  and `summary` of generated 2,000- and 4,000-layer specs (the 4000/2000 ratio shows whether it
  grows linearly).

Contenders alternate within each repetition; results are medians. The table is printed and the
measurements saved as JSON (default benchmarks/results.json).

    python benchmarks/run.py                       # everything, 3 repetitions (about 10 minutes on 2 cores)
    python benchmarks/run.py --models mlp,lstm --reps 5 --no-cli
    python benchmarks/run.py --keras-python /path/to/venv/bin/python
    python benchmarks/run.py --no-training --installed-python /path/to/venv/bin/python   # commands as users install them
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import expert

from modelspec.checked import check_spec
from modelspec.callbacks.runtime import Callback
from modelspec.training.run import TrainingRun

#: name -> (spec, samples, label)
MODELS = {
    "mlp": (ROOT / "specs/mnist_mlp.yaml", 20_000, "MNIST MLP (20,000 x 784)"),
    "lstm": (ROOT / "specs/stacked_lstm.yaml", 10_000, "stacked LSTM (10,000 x 8 x 16)"),
    "headline": (ROOT / "specs/headline.yaml", 2_000, "headline (2,000 x 100 ids)"),
    "cnn": (HERE / "specs/small_cnn.yaml", 6_000, "small CNN (6,000 x 28 x 28 x 1)"),
}


def make_data(name: str, samples: int, folder: Path) -> Path:
    """Synthetic arrays of the model's shapes, saved as an .npz (the same file for every contender)."""
    rng = np.random.default_rng(0)

    def onehot(n: int, classes: int) -> np.ndarray:
        return np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]

    if name == "mlp":
        arrays = {"x": rng.random((samples, 784), dtype=np.float32), "y": onehot(samples, 10)}
    elif name == "lstm":
        arrays = {"x": rng.random((samples, 8, 16), dtype=np.float32), "y": onehot(samples, 10)}
    elif name == "cnn":
        arrays = {"x": rng.random((samples, 28, 28, 1), dtype=np.float32), "y": onehot(samples, 10)}
    else:
        arrays = {
            "main_input": rng.integers(1, 10_000, (samples, 100)).astype(np.int32),
            "aux_input": rng.random((samples, 5), dtype=np.float32),
            "main_output": rng.integers(0, 2, (samples, 1)).astype(np.float32),
            "aux_output": rng.integers(0, 2, (samples, 1)).astype(np.float32),
        }
    path = folder / f"{name}.npz"
    np.savez(path, **arrays)
    return path


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as archive:
        return {key: archive[key] for key in archive.files}


class _Interleaved(Callback):
    """Times each modelspec epoch and runs one expert epoch beside it, before and after in turn.

    Each pair of epochs meets the same conditions (other processes on the machine, caches, clock):
    the ratio of a pair is robust where separate runs a minute apart are not.
    """

    def __init__(self, trainer: expert.Trainer):
        self.trainer = trainer
        self.pairs: list[tuple[float, float]] = []

    def _expert_epoch(self) -> None:
        started = time.perf_counter()
        self.trainer.epoch()
        self.theirs = time.perf_counter() - started

    def on_epoch_begin(self, epoch: int) -> None:
        if epoch % 2:
            self._expert_epoch()
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        ours = time.perf_counter() - self.started
        if not epoch % 2:
            self._expert_epoch()
        self.pairs.append((ours, self.theirs))


def interleaved_epochs(name: str, spec: Path, data: Path, epochs: int, run_dir: Path, jit: bool = False) -> list[tuple[float, float]]:
    """(modelspec, expert) seconds of `epochs` pairs of epochs, after a first pair that is not counted.

    `jit`: modelspec with `fit.jit_compile: true` (torch.compile; its compilation falls in the uncounted
    first epoch) against the same eager expert loop.
    """
    interleaved = _Interleaved(expert.Trainer(name, _load(data)))
    overrides = [f"data.train={data}", f"fit.epochs={epochs + 1}", *(["fit.jit_compile=true"] if jit else [])]
    run = TrainingRun(check_spec(spec, overrides), run_dir, seed=0, device="cpu", callbacks=[interleaved])
    assert run.fit().status == "finished"
    return interleaved.pairs[1:]


def modelspec_in_process(spec: Path, data: Path, epochs: int, run_dir: Path) -> float:
    """Seconds of a whole in-process TrainingRun: built (data loaded and checked) and fitted (checkpoints written)."""
    started = time.perf_counter()
    run = TrainingRun(check_spec(spec, [f"data.train={data}", f"fit.epochs={epochs}"]), run_dir, seed=0, device="cpu")
    result = run.fit()
    total = time.perf_counter() - started
    assert result.status == "finished", result
    return total


def expert_in_process(name: str, data: Path, epochs: int) -> float:
    started = time.perf_counter()
    expert.train(name, _load(data), epochs)
    return time.perf_counter() - started


def _wall(command: list[str], **kwargs) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def modelspec_command(python: str = sys.executable) -> list[str]:
    """The `modelspec` script installed beside `python`, run by it (no pyenv/venv shim in the timing)."""
    script = Path(python).parent / "modelspec"
    if script.is_file():
        return [python, str(script)]
    return [python, "-c", "import sys; from modelspec_cli.main import main; sys.exit(main())"]


def keras_works(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import os; os.environ.setdefault('KERAS_BACKEND', 'torch'); import keras; "
                            "assert keras.backend.backend() == 'torch'"], capture_output=True)
    return probe.returncode == 0


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def bench_training(names: list[str], reps: int, epochs: int, folder: Path, process: bool, keras_python: str | None, keras_reps: int = 1,
                   jit: bool = False) -> dict:
    results: dict = {}
    command = modelspec_command()
    for name in names:
        spec, samples, label = MODELS[name]
        data = make_data(name, samples, folder)
        found: dict[str, dict[str, list[float]]] = {who: {"epoch_s": [], "fit_s": [], "process_s": []} for who in ("modelspec", "expert", "keras")}
        pair_ratios: list[float] = []
        jit_ratios: list[float] = []
        if jit:  # once per model: compiling is slow, and the ratio of pairs is steady
            jit_ratios = [ours / theirs for ours, theirs in interleaved_epochs(name, spec, data, epochs, folder / f"jit-{name}", jit=True)]
        for rep in range(reps):
            for ours, theirs in interleaved_epochs(name, spec, data, epochs, folder / f"pairs-{name}-{rep}"):
                found["modelspec"]["epoch_s"].append(ours)
                found["expert"]["epoch_s"].append(theirs)
                pair_ratios.append(ours / theirs)
            for who in (["modelspec", "expert"] if rep % 2 == 0 else ["expert", "modelspec"]):
                if who == "modelspec":
                    found[who]["fit_s"].append(modelspec_in_process(spec, data, epochs, folder / f"run-{name}-{rep}"))
                else:
                    found[who]["fit_s"].append(expert_in_process(name, data, epochs))
            if process:
                for who in (["modelspec", "expert"] if rep % 2 == 0 else ["expert", "modelspec"]):
                    if who == "modelspec":
                        cmd = [*command, "train", str(spec), "--set", f"data.train={data}", "--set", f"fit.epochs={epochs}",
                               "--quiet", "--device", "cpu", "--run-dir", str(folder / f"proc-{name}-{rep}")]
                    else:
                        cmd = [sys.executable, str(HERE / "expert.py"), name, str(data), "--epochs", str(epochs)]
                    found[who]["process_s"].append(_wall(cmd, cwd=folder)[0])
            if keras_python and rep < keras_reps:
                seconds, out = _wall([keras_python, str(HERE / "keras_loop.py"), name, str(data), "--epochs", str(epochs + 1)],
                                     env={**os.environ, "KERAS_BACKEND": "torch"}, cwd=folder)
                found["keras"]["epoch_s"] += json.loads(out.strip().splitlines()[-1])["epoch_seconds"][1:]
                found["keras"]["process_s"].append(seconds)
            print(f"  {name} repetition {rep + 1}/{reps} done", file=sys.stderr, flush=True)
        medians = {who: {key: _median(values) for key, values in kinds.items()} for who, kinds in found.items()}
        results[name] = {
            "label": label, "spec": str(spec.relative_to(ROOT)), "samples": samples, "epochs": epochs, "reps": reps,
            "measurements": found, "epoch_pair_ratios": pair_ratios, "jit_epoch_pair_ratios": jit_ratios, "medians": medians,
            "ratios": {
                "epoch": _median(pair_ratios),
                "jit_epoch": _median(jit_ratios),
                "best_epoch": _ratio(min(found["modelspec"]["epoch_s"]), min(found["expert"]["epoch_s"])),
                "fit": _ratio(medians["modelspec"]["fit_s"], medians["expert"]["fit_s"]),
                "process": _ratio(medians["modelspec"]["process_s"], medians["expert"]["process_s"]),
                "keras_epoch": _ratio(medians["keras"]["epoch_s"], medians["expert"]["epoch_s"]),
                "modelspec_vs_keras_epoch": _ratio(medians["modelspec"]["epoch_s"], medians["keras"]["epoch_s"]),
            },
        }
    return results


def _deep_spec(layers: int) -> str:
    rows = ["name: deep", "sequential:", "  - {type: Dense, units: 4, activation: relu, input_shape: [4]}"]
    rows += ["  - {type: Dense, units: 4, activation: relu}"] * (layers - 1)
    rows += ["compile: {optimizer: sgd, loss: mse}"]
    return "\n".join(rows) + "\n"


def bench_cli(runs: int, folder: Path, installed_python: str | None = None) -> dict:
    command = modelspec_command()
    spec = str(ROOT / "specs/mnist_mlp.yaml")
    warm = {"MODELSPEC_CACHE_DIR": str(folder / "schema-cache")}  # filled by the warm-up run below
    cold = {"MODELSPEC_CACHE_DIR": "off"}  # every process builds the spec's pydantic validators
    floor = "import click, rich.console, pydantic, yaml"
    cases = {
        "python -c 'import torch'": ([sys.executable, "-c", "import torch"], {}),
        "python -c 'pass'": ([sys.executable, "-c", "pass"], {}),
        f"python -c '{floor}' (the floor)": ([sys.executable, "-c", floor], {}),
        "modelspec --help": ([*command, "--help"], {}),
        "modelspec validate specs/mnist_mlp.yaml": ([*command, "validate", spec], warm),
        "modelspec summary specs/mnist_mlp.yaml": ([*command, "summary", spec], warm),
        "modelspec validate specs/mnist_mlp.yaml (schema cache off)": ([*command, "validate", spec], cold),
        "modelspec summary specs/mnist_mlp.yaml (schema cache off)": ([*command, "summary", spec], cold),
    }
    if installed_python:  # the same commands as a user's `pip install .` in a clean virtual environment runs them
        installed = modelspec_command(installed_python)
        cases |= {
            "installed: python -c 'pass'": ([installed_python, "-c", "pass"], {}),
            f"installed: python -c '{floor}' (the floor)": ([installed_python, "-c", floor], {}),
            "installed: modelspec --help": ([*installed, "--help"], {}),
            "installed: modelspec validate specs/mnist_mlp.yaml": ([*installed, "validate", spec], warm),
            "installed: modelspec summary specs/mnist_mlp.yaml": ([*installed, "summary", spec], warm),
        }
    for layers in (2000, 4000):
        path = folder / f"deep_{layers}.yaml"
        path.write_text(_deep_spec(layers))
        cases[f"modelspec summary ({layers} layers)"] = ([*command, "summary", str(path)], warm)
    # As an installed package runs: bytecode compiled and cached (PYTHONDONTWRITEBYTECODE would recompile
    # every edited module in every process), and one untimed warm-up run of each case (file cache).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"} | {"COLUMNS": "100"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "modelspec"), str(ROOT / "modelspec_cli")], capture_output=True, env=env)
    for cmd, extra in cases.values():
        _wall(cmd, cwd=ROOT, env=env | extra)
    times: dict[str, list[float]] = {case: [] for case in cases}
    for _ in range(runs):
        for case, (cmd, extra) in cases.items():
            times[case].append(_wall(cmd, cwd=ROOT, env=env | extra)[0])
    medians = {case: statistics.median(values) for case, values in times.items()}
    quartiles = {case: statistics.quantiles(values, n=4)[0] for case, values in times.items() if len(values) > 1}
    return {"runs": runs, "measurements": times, "medians": medians, "first_quartiles": quartiles, "installed_python": installed_python,
            "summary_4000_over_2000": medians["modelspec summary (4000 layers)"] / medians["modelspec summary (2000 layers)"]}


def _fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def table(results: dict) -> str:
    lines = []
    training = results.get("training", {})
    if training:
        lines += ["| model | epoch modelspec | epoch expert | **epoch ratio** | pair ratios q1-q3 | best-epoch ratio | fit ratio | process ratio | "
                  "jit_compile epoch ratio | Keras epoch | Keras / expert | Keras / modelspec |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for row in training.values():
            m, r = row["medians"], row["ratios"]
            pairs = row["epoch_pair_ratios"]
            q1, _, q3 = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else (None, None, None)
            lines.append(
                f"| {row['label']} | {_fmt(m['modelspec']['epoch_s'], 3, ' s')} | {_fmt(m['expert']['epoch_s'], 3, ' s')} | "
                f"**{_fmt(r['epoch'])}x** | {_fmt(q1)}-{_fmt(q3)} | {_fmt(r.get('best_epoch'))}x | {_fmt(r['fit'])}x | "
                f"{_fmt(r['process'])}{'x' if r['process'] else ''} | {_fmt(r.get('jit_epoch'))}{'x' if r.get('jit_epoch') else ''} | "
                f"{_fmt(m['keras']['epoch_s'], 3, ' s')} | {_fmt(r['keras_epoch'])}{'x' if r['keras_epoch'] else ''} | "
                f"{_fmt(_ratio(m['keras']['epoch_s'], m['modelspec']['epoch_s']))}{'x' if m['keras']['epoch_s'] else ''} |"
            )
    cli = results.get("cli")
    if cli:
        quartiles = cli.get("first_quartiles", {})
        lines += ["", "| command (whole process) | median | first quartile |", "| --- | ---: | ---: |"]
        for case, value in cli["medians"].items():
            quartile = quartiles.get(case)
            lines.append(f"| `{case}` | {value * 1000:.0f} ms | {_fmt(quartile * 1000 if quartile else None, 0, ' ms')} |")
        lines.append(f"| summary 4000 / 2000 layers | {cli['summary_4000_over_2000']:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {', '.join(MODELS)}")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each training contender")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per training run (and counted pairs of epochs per repetition)")
    parser.add_argument("--cli-runs", type=int, default=5, help="processes per command-line case")
    parser.add_argument("--no-process", action="store_true", help="skip the whole-process training timings")
    parser.add_argument("--no-cli", action="store_true", help="skip the command-line timings")
    parser.add_argument("--no-training", action="store_true", help="skip the training timings")
    parser.add_argument("--keras-python", default=sys.executable, help="interpreter for the Keras contender (skipped where keras does not import)")
    parser.add_argument("--keras-reps", type=int, default=1, help="Keras runs per model (a reference: slower, so fewer)")
    parser.add_argument("--jit", action="store_true", help="also time fit.jit_compile: true (torch.compile) against the eager expert loop")
    parser.add_argument("--threads", type=int, help="torch threads in every contender (default: torch's own choice)")
    parser.add_argument("--installed-python", metavar="PYTHON", help="also time the commands with this interpreter's environment, "
                        "where modelspec is installed as users install it (python -m venv V && V/bin/pip install .)")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--table", type=Path, metavar="RESULTS.json", help="only print the table of saved results")
    args = parser.parse_args()
    if args.table:
        results = json.loads(args.table.read_text())
        for row in results.get("training", {}).values():  # results saved before best_epoch existed
            kinds = row["measurements"]
            row["ratios"].setdefault("best_epoch", _ratio(min(kinds["modelspec"]["epoch_s"]), min(kinds["expert"]["epoch_s"])))
        print(table(results))
        return
    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the child processes
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
    keras_python = args.keras_python if not args.no_training and keras_works(args.keras_python) else None
    if not args.no_training and keras_python is None:
        print("keras (torch backend) does not import: the Keras column is skipped", file=sys.stderr)
    results: dict = {
        "machine": {"python": platform.python_version(), "torch": torch.__version__, "threads": torch.get_num_threads(),
                    "cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor(),
                    "load_average_before": os.getloadavg()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with tempfile.TemporaryDirectory(prefix="modelspec-bench-") as temporary:
        folder = Path(temporary)
        if not args.no_training:
            results["training"] = bench_training(names, args.reps, args.epochs, folder, not args.no_process, keras_python, args.keras_reps, args.jit)
        if not args.no_cli:
            results["cli"] = bench_cli(args.cli_runs, folder, args.installed_python)
    results["machine"]["load_average_after"] = os.getloadavg()  # other processes on the machine skew the timings
    text = table(results)
    print(text)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nsaved {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
