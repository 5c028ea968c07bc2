"""Rich renderings of library results. The library returns data; only this module draws it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # annotations only: `summary` need not import the catalog or the run listing
    from modelspec.catalog import LayerDetails, LayerSummary
    from modelspec.errors import Problem
    from modelspec.runs import RunInfo
    from modelspec.summary import SummaryRow


def problems(console: Console, items: list[Problem]) -> None:
    """FILE:LINE:COL: message, one per line (plain text: editors and scripts parse it)."""
    for problem in items:
        console.print(escape(str(problem)), highlight=False, soft_wrap=True)


def summary_table(console: Console, name: str, rows: list[SummaryRow], totals: list[tuple[str, int, str]]) -> None:
    """The Keras-style summary: Layer (type), Output Shape, Param #, Connected to, then the totals."""
    console.print(f'Model: "{escape(name)}"', style="bold")
    table = Table(show_lines=False, header_style="bold")
    # On a narrow terminal, names and connections wrap; shapes and counts stay whole.
    table.add_column("Layer (type)", overflow="fold")
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right", no_wrap=True, min_width=len("Param #"))
    show_connections = any(row.connected_to for row in rows)
    if show_connections:
        table.add_column("Connected to", overflow="fold", min_width=len("Connected to"))
    for row in rows:  # plain Text cells: no markup or emoji parsing per cell (a 4,000-layer summary stays fast)
        indent = "  " * row.depth + ("└ " if row.depth else "")
        cells = [Text(f"{indent}{row.name} ({row.type})"), Text(row.output_shape), Text(f"{row.params:,}" if row.params is not None else "")]
        if show_connections:
            cells.append(Text(row.connected_to))
        table.add_row(*cells, style="dim" if row.depth else None)
    console.print(table)
    for label, count, size in totals:
        console.print(f"[bold]{label}:[/bold] {count:,} ({size})", highlight=False)


def results_table(console: Console, title: str, columns: dict[str, dict[str, float]]) -> None:
    """Final metrics: one row per metric, one column per data split (train, validation, test)."""
    names: list[str] = []
    for logs in columns.values():
        names += [name.removeprefix("val_") for name in logs if name.removeprefix("val_") not in names]
    console.print(title, style="bold", highlight=False)
    table = Table(header_style="bold")
    table.add_column("metric")
    for split in columns:
        table.add_column(split, justify="right")
    for name in names:
        cells = []
        for split, logs in columns.items():
            value = logs.get(f"val_{name}" if split == "validation" else name)
            cells.append("" if value is None else f"{value:.4f}")
        table.add_row(escape(name), *cells)
    console.print(table)


def catalog_table(console: Console, rows: list[LayerSummary]) -> None:
    """`modelspec layers`: type, family and one-line description of every layer type."""
    table = Table(header_style="bold", title=f"{len(rows)} layer types", title_justify="left")
    table.add_column("type", no_wrap=True, style="bold")
    table.add_column("family", no_wrap=True)
    table.add_column("description")
    for row in rows:
        table.add_row(escape(row.type), escape(row.family), escape(row.description))
    console.print(table)
    console.print("modelspec layers TYPE shows a type's arguments and an example.", style="dim", highlight=False)


def layer_card(console: Console, details: LayerDetails) -> None:
    """`modelspec layers NAME`: the description, the arguments (own, regularization, common) and a YAML example."""
    console.print(f"[bold]{escape(details.type)}[/bold] ({escape(details.family)})", highlight=False)
    console.print(escape(details.description), highlight=False)
    titles = {"layer": "arguments", "regularization": "regularizers and constraints", "common": "keys every layer accepts"}
    for group, title in titles.items():
        members = [a for a in details.arguments if a.group == group]
        if not members:
            continue
        table = Table(header_style="bold", title=title, title_justify="left")
        table.add_column("argument", no_wrap=True, style="bold")
        table.add_column("type")
        table.add_column("default", no_wrap=True)
        table.add_column("description")
        for argument in members:
            default = "[red]required[/red]" if argument.required else escape(argument.default or "")
            table.add_row(escape(argument.name), escape(argument.type), default, escape(argument.description),
                          style="dim" if group == "common" else None)
        console.print(table)
    console.print("example:", style="bold")
    console.print(escape(details.example.rstrip("\n")), soft_wrap=True, highlight=False)


def _duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


_STATUS_STYLES = {"finished": "green", "running": "cyan", "interrupted": "yellow", "stopped": "red", "failed": "red"}


def _metric_text(run: RunInfo, metric: str) -> str:
    final, best = run.final.get(metric), run.best.get(metric)
    if final is None:
        return ""
    return f"{final:.4f}" + (f" [dim]({best:.4f})[/dim]" if best is not None and best != final else "")


def runs_table(console: Console, runs: list[RunInfo], metrics: list[str]) -> None:
    """`modelspec runs`: a row per run; a metric is its final value, with its best in parentheses when different.

    A column per field and per metric when that fits the console; otherwise three stacked columns."""
    if not runs:
        console.print("no runs", highlight=False)
        return
    caption = "metrics: final value (best, when different)"
    table = Table(header_style="bold", caption=caption, caption_justify="left")
    for column in ("run", "spec", "overrides", "epochs", "status", "duration", *metrics):
        table.add_column(escape(column), justify="left" if column in ("run", "spec", "overrides", "status") else "right", overflow="fold")
    for run in runs:
        table.add_row(escape(Path(run.run_dir).name), escape(run.name), escape("\n".join(run.overrides)), str(run.epochs),
                      _status_text(run), _duration_text(run.duration_s), *(_metric_text(run, metric) for metric in metrics))
    if Measurement.get(console, console.options.update_width(10_000), table).maximum > console.width:
        table = Table(header_style="bold", caption=caption, caption_justify="left", show_lines=True)
        table.add_column("run (spec, overrides)", overflow="fold")
        table.add_column("status", no_wrap=True)
        table.add_column("metrics", no_wrap=True)
        for run in runs:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(no_wrap=True)
            grid.add_column(justify="right", no_wrap=True)
            for metric in metrics:
                if metric in run.final:
                    grid.add_row(escape(metric), _metric_text(run, metric))
            about = "\n".join(escape(part) for part in (Path(run.run_dir).name, run.name, *run.overrides))
            table.add_row(about, f"{_status_text(run)}\n{run.epochs} epoch(s)\n{_duration_text(run.duration_s)}", grid)
    console.print(table)


def _status_text(run: RunInfo) -> str:
    return f"[{_STATUS_STYLES.get(run.status, 'white')}]{escape(run.status)}[/]"
