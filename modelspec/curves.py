"""Training curves of a run: one panel per metric, training and validation together (`modelspec plot`).

`panels()` is the data; `save_curves()` draws it with matplotlib, an optional dependency
(`pip install 'modelspec[plot]'`), imported only here and without pyplot, so no window opens.
Each panel is PANEL_SIZE pixels, at most COLUMNS panels a row.

Example:
    history = read_history("runs/digits_mlp-20261128-153546")
    save_curves(panels(history), "curves.png", title="digits_mlp")
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from modelspec.errors import UsageError

PANEL_SIZE = (450, 320)  # pixels (width, height) of one panel
COLUMNS = 3
DPI = 100
FORMATS = (".png", ".svg", ".pdf")


class MissingDependency(UsageError):
    """An optional package a command needs is not installed."""


@dataclass(frozen=True)
class Panel:
    """One metric: its epochs (1-based) and the training and validation values (NaN where not computed)."""

    metric: str
    epochs: list[int]
    train: list[float] | None
    validation: list[float] | None


def panels(history: dict[str, list[float]]) -> list[Panel]:
    """A panel per metric of a history (`loss` and `val_loss` share one), in the history's column order."""
    length = max((len(values) for values in history.values()), default=0)
    epochs = [int(e) + 1 for e in history["epoch"]] if "epoch" in history else list(range(1, length + 1))
    found: list[Panel] = []
    for name in history:
        if name == "epoch":
            continue
        metric = name.removeprefix("val_")
        if any(panel.metric == metric for panel in found):
            continue
        train, validation = history.get(metric), history.get(f"val_{metric}")
        found.append(Panel(metric, epochs, train, validation))
    return found


def figure_pixels(count: int) -> tuple[int, int]:
    """(width, height) in pixels of the image for `count` panels."""
    columns = max(1, min(count, COLUMNS))
    rows = max(1, math.ceil(count / columns))
    return PANEL_SIZE[0] * columns, PANEL_SIZE[1] * rows


def save_curves(items: list[Panel], path: str | Path, *, title: str = "") -> tuple[int, int]:
    """Draw the panels into an image file (format from the suffix: .png, .svg, .pdf); returns its pixel size."""
    if Path(path).suffix.lower() not in FORMATS:
        raise UsageError(f"cannot plot to '{path}': use an image file name ending in {', '.join(FORMATS)}")
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise MissingDependency("plotting needs matplotlib, which is not installed: pip install 'modelspec[plot]' (or pip install matplotlib)") from None
    if not items:
        raise UsageError("the run has no recorded epochs yet (history.csv is empty or missing): nothing to plot")
    width, height = figure_pixels(len(items))
    columns = max(1, min(len(items), COLUMNS))
    rows = math.ceil(len(items) / columns)
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    if title:
        figure.suptitle(title, fontsize=11)
    for index, panel in enumerate(items):
        axes = figure.add_subplot(rows, columns, index + 1)
        for label, values, color in (("train", panel.train, "#1f77b4"), ("validation", panel.validation, "#ff7f0e")):
            if values is not None:
                points = [(e, v) for e, v in zip(panel.epochs, values) if math.isfinite(v)]
                if points:
                    axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, label=label, color=color)
        axes.set_title(panel.metric, fontsize=10)
        axes.set_xlabel("epoch", fontsize=9)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(True, alpha=0.3)
        axes.tick_params(labelsize=8)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=8)
    figure.savefig(path, dpi=DPI)
    return width, height
