"""Training progress: a rich bar with live metrics on a terminal, one plain line per epoch otherwise.

Reads the metrics (a host synchronisation) at most a few times a second, never per step.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from modelspec.callbacks.runtime import Callback


def format_logs(logs: dict[str, float]) -> str:
    return " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())


class PlainProgress(Callback):
    """`Epoch 3/20 - 0.4s - loss: 0.3127 - accuracy: 0.9135 - val_loss: ...` per epoch (logs of shell scripts)."""

    def __init__(self, console: Console):
        self.console = console

    def on_epoch_begin(self, epoch: int) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        seconds = time.perf_counter() - self.started
        epochs = self.params["epochs"]
        self.console.print(f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s - {format_logs(logs)}", markup=False, highlight=False)


class BarProgress(Callback):
    """A live bar per epoch with the running loss and metrics."""

    def __init__(self, console: Console, refresh_seconds: float = 0.25):
        self.console = console
        self.refresh_seconds = refresh_seconds

    def on_epoch_begin(self, epoch: int) -> None:
        epochs = self.params["epochs"]
        self.progress = Progress(
            TextColumn(f"Epoch {epoch + 1}/{epochs}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[metrics]}"), console=self.console, transient=False,
        )
        self.task = self.progress.add_task("train", total=None, metrics="")
        self.progress.start()
        self.last_read = 0.0

    def on_batch_end(self, epoch: int, step: int, steps: int, read_logs: Callable[[], dict[str, float]]) -> None:
        now = time.perf_counter()
        fields = {}
        if now - self.last_read >= self.refresh_seconds:
            self.last_read = now
            fields["metrics"] = format_logs(read_logs())
        self.progress.update(self.task, completed=step + 1, total=steps, **fields)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.progress.update(self.task, metrics=format_logs(logs))
        self.progress.stop()

    def on_train_end(self, logs: dict[str, float]) -> None:
        progress = getattr(self, "progress", None)
        if progress is not None:
            progress.stop()
