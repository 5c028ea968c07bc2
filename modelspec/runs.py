"""Training runs on disk, as data: what `modelspec runs` tabulates and `modelspec plot` draws. No torch.

A run directory holds `run.json` (status, spec, overrides, times) and `history.csv` (a row per
epoch, `NA` where a value is missing, e.g. validation every few epochs); see
modelspec/training/run.py. Metrics are compared as Keras's callbacks do: accuracy, AUC,
precision and recall are better higher, losses and errors lower.

Example:
    runs = list_runs("runs")                     # every run directory under runs/, oldest first
    runs = sort_runs(runs, "val_accuracy")       # best val_accuracy first
    runs[0].best["val_accuracy"], runs[0].final["loss"], runs[0].duration_s
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from modelspec.errors import UsageError, did_you_mean, format_choices, quote, shorten

#: What run.json's status can say (running: recorded while training; a killed run keeps it).
STATUSES = ("finished", "interrupted", "stopped", "failed", "running")
#: Keys `sort_runs` accepts besides metric names.
SORT_KEYS = ("started", "name", "epochs", "duration")
_HIGHER_IS_BETTER = ("accuracy", "auc", "precision", "recall")


def higher_is_better(metric: str) -> bool:
    """True for accuracy-like metrics (accuracy, auc, precision, recall, with any prefix), False for losses and errors."""
    return any(word in metric.lower() for word in _HIGHER_IS_BETTER)


def read_history(run_dir: str | Path) -> dict[str, list[float]]:
    """history.csv as columns: {"epoch": [0, 1, ...], "loss": [...], "val_loss": [..., nan, ...]}; {} when absent.

    A file modelspec did not write (text that is not UTF-8, ragged rows, values that are not numbers
    or NA, epochs that are not whole numbers) is a UsageError naming the file and line."""
    path = Path(run_dir) / "history.csv"
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise UsageError(f"cannot read '{path}': {error.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"{path}: not UTF-8 text in CSV rows, as modelspec train writes history.csv ({error})") from None
    if not rows:
        return {}
    header = rows[0]
    repeated = next((name for name in header if header.count(name) > 1), None)
    if repeated is not None or not all(header):
        problem = f"the column '{shorten(repeated)}' appears {header.count(repeated)} times" if repeated is not None else None
        raise UsageError(f"{path}:1: {problem or 'a column has no name'}")
    columns: dict[str, list[float]] = {name: [] for name in header}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UsageError(f"{path}:{line}: {len(row)} values, expected {len(header)} (one per column: {', '.join(header)})")
        for name, cell in zip(header, row):
            columns[name].append(_history_value(cell, name, f"{path}:{line}"))
    return columns


def _history_value(cell: str, column: str, where: str) -> float:
    """One cell of history.csv: a number, NaN for NA (not computed that epoch); epochs are whole numbers."""
    if cell in ("NA", ""):
        value = math.nan
    else:
        try:
            value = float(cell)
        except ValueError:
            raise UsageError(f"{where}: column '{column}' holds {quote(cell)}, expected a number or NA") from None
    if column == "epoch" and not (value.is_integer() and value >= 0):
        raise UsageError(f"{where}: column 'epoch' holds {quote(cell)}, expected a whole number of epochs (0, 1, ...)")
    return value


@dataclass(frozen=True)
class RunInfo:
    """One run directory, summarised."""

    run_dir: str
    name: str
    spec: str
    overrides: list[str]
    epochs: int
    status: str
    started: str | None
    ended: str | None
    duration_s: float | None
    final: dict[str, float] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)
    message: str = ""

    def as_json(self) -> dict[str, Any]:
        document = asdict(self)
        for key in ("final", "best"):
            document[key] = {name: (None if math.isnan(value) else value) for name, value in document[key].items()}
        return document


def _duration(info: dict[str, Any]) -> float | None:
    value = info.get("duration_s")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return (datetime.fromisoformat(info["ended"]) - datetime.fromisoformat(info["started"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return None


def read_run(run_dir: str | Path) -> RunInfo:
    """Summarise one run directory (UsageError when it holds no readable run.json)."""
    run_dir = Path(run_dir)
    try:
        info = json.loads((run_dir / "run.json").read_text())
    except FileNotFoundError:
        raise UsageError(f"'{run_dir}' is not a run directory: it holds no run.json") from None
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read '{run_dir / 'run.json'}': {error}") from None
    if not isinstance(info, dict):
        raise UsageError(f"'{run_dir / 'run.json'}' is not a run.json written by modelspec train")
    history = read_history(run_dir)
    final: dict[str, float] = {}
    best: dict[str, float] = {}
    for metric, values in history.items():
        finite = [v for v in values if math.isfinite(v)]
        if metric == "epoch" or not finite:
            continue
        final[metric] = finite[-1]
        best[metric] = max(finite) if higher_is_better(metric) else min(finite)
    for metric, value in (info.get("test") or {}).items():
        if isinstance(value, (int, float)):
            final[f"test_{metric}"] = best[f"test_{metric}"] = float(value)
    epochs = info.get("epochs_done")
    return RunInfo(
        run_dir=str(run_dir),
        name=str(info.get("name", run_dir.name)),
        spec=str(info.get("spec", "")),
        overrides=[str(o) for o in info.get("overrides") or []],
        epochs=epochs if isinstance(epochs, int) else len(history.get("epoch", [])),
        status=str(info.get("status", "unknown")),
        started=info.get("started"),
        ended=info.get("ended"),
        duration_s=_duration(info),
        final=final,
        best=best,
        message=str(info.get("message") or info.get("error") or ""),
    )


def list_runs(directory: str | Path = "runs") -> list[RunInfo]:
    """The runs in `directory` (itself, if it is a run directory), oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UsageError(f"no runs directory '{directory}': train with `modelspec train SPEC` (runs go to runs/ by default) or name one")
    if (directory / "run.json").is_file():
        return [read_run(directory)]
    runs = [read_run(child) for child in sorted(directory.iterdir()) if (child / "run.json").is_file()]
    return sorted(runs, key=lambda run: (run.started or "", run.run_dir))


def metric_names(runs: list[RunInfo]) -> list[str]:
    """Every metric of these runs, in first-seen order."""
    names: list[str] = []
    for run in runs:
        names += [name for name in run.best if name not in names]
    return names


def sort_runs(runs: list[RunInfo], key: str) -> list[RunInfo]:
    """Runs ordered by `key`: a metric (best value first; runs without it last), or started, name, epochs, duration."""
    if key in SORT_KEYS:
        if key == "duration":
            return sorted(runs, key=lambda r: (r.duration_s is None, r.duration_s or 0.0))
        return sorted(runs, key=lambda r: (getattr(r, key) is None, getattr(r, key) or ""))
    known = metric_names(runs)
    if key not in known:
        choices = [*known, *SORT_KEYS]
        raise UsageError(f"--sort {key}: no run has this metric{did_you_mean(key, choices)} (choices: {format_choices(choices, limit=20)})")
    sign = -1.0 if higher_is_better(key) else 1.0

    def order(run: RunInfo) -> tuple[bool, float]:
        value = run.best.get(key)
        return (value is None or math.isnan(value), sign * value if value is not None else 0.0)

    return sorted(runs, key=order)
