"""Rich renderings of library results. The library returns data; only this module draws it."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from modelspec.errors import Problem
from modelspec.summary import SummaryRow


def problems(console: Console, items: list[Problem]) -> None:
    """FILE:LINE:COL: message, one per line (plain text: editors and scripts parse it)."""
    for problem in items:
        console.print(escape(str(problem)), highlight=False, soft_wrap=True)


def summary_table(console: Console, name: str, rows: list[SummaryRow], totals: list[tuple[str, int, str]]) -> None:
    """The Keras-style summary: Layer (type), Output Shape, Param #, Connected to, then the totals."""
    console.print(f'Model: "{escape(name)}"', style="bold")
    table = Table(show_lines=False, header_style="bold")
    table.add_column("Layer (type)", no_wrap=True)
    table.add_column("Output Shape", no_wrap=True)
    table.add_column("Param #", justify="right")
    show_connections = any(row.connected_to for row in rows)
    if show_connections:
        table.add_column("Connected to")
    for row in rows:
        indent = "  " * row.depth + ("└ " if row.depth else "")
        cells = [
            f"{indent}{escape(row.name)} ({escape(row.type)})",
            row.output_shape,
            f"{row.params:,}" if row.params is not None else "",
        ]
        if show_connections:
            cells.append(escape(row.connected_to))
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
