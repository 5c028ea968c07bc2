"""A run's history: columns of per-epoch values ({"epoch": [...], "loss": [...], ...}), and history.csv.

Torch-free: the training loop records each epoch's logs here, the CSVLogger callback and history.csv
write them in Keras's CSVLogger layout.
"""

from __future__ import annotations

from typing import Any


def rows_csv(rows: list[dict[str, Any]], separator: str = ",") -> str:
    """Keras's CSVLogger layout of per-epoch rows: an `epoch` column, then the sorted metric names; NA where
    an epoch lacks a metric (validation_freq > 1 validates only some epochs)."""
    keys = sorted({key for row in rows for key in row} - {"epoch"})
    lines = [separator.join(["epoch", *keys])]
    for row in rows:
        lines.append(separator.join([str(int(row["epoch"]))] + [repr(row[key]) if row.get(key) is not None else "NA" for key in keys]))
    return "\n".join(lines) + "\n"


def record_epoch(history: dict[str, list[float | None]], epoch: int, logs: dict[str, float]) -> None:
    """Add an epoch's row to a history of columns ({"epoch": [...], "loss": [...], ...}, every column one
    value an epoch): None for a metric the epoch lacks, so that epochs without validation keep val_* in step."""
    done = len(history.get("epoch", []))
    history.setdefault("epoch", []).append(epoch)
    for name in logs:
        history.setdefault(name, [None] * done)
    for name, column in history.items():
        if name != "epoch":
            column.extend([None] * (done - len(column)))  # a column left short (a checkpoint of an older version)
            column.append(logs.get(name))


def history_rows(history: dict[str, list[float | None]]) -> list[dict[str, Any]]:
    """The per-epoch rows of a history of columns: {"epoch": e, name: value or None, ...}."""
    return [{name: column[i] if i < len(column) else None for name, column in history.items()} for i in range(len(history.get("epoch", [])))]


def last_values(history: dict[str, list[float | None]]) -> dict[str, float]:
    """Each metric's value in the last epoch that computed it (val_* may skip epochs)."""
    final = {}
    for name, column in history.items():
        values = [value for value in column if value is not None]
        if name != "epoch" and values:
            final[name] = values[-1]
    return final


def history_csv(history: dict[str, list[float | None]], separator: str = ",") -> str:
    """history.csv: Keras's CSVLogger layout (as the CSVLogger callback writes it), a row per epoch."""
    return rows_csv(history_rows(history), separator)
