"""Training progress as Keras's ProgbarLogger shows it (keras/src/utils/progbar.py), and the callbacks' messages.

On a terminal (BarProgress, Keras's verbose=1): `Epoch 3/20` on a line of its own, then a bar redrawn while the
epoch runs, with the time left and the time per step,

    32/57 ━━━━━━━━━━━╸━━━━━━━━ 1s 12ms/step - loss: 0.3127 - accuracy: 0.9135

and kept at its end with the seconds the epoch took and every metric, validation ones included. The metrics
that do not fit the terminal's width go on the next lines: nothing is cut.

Otherwise (PlainProgress: a pipe, a file, a CI log), one line per epoch that never wraps: modelspec's epoch
counter, then Keras's verbose=2 line, so that one `grep` line holds an epoch's every value:

    Epoch 3/20 - 57/57 - 1s - 12ms/step - loss: 0.3127 - accuracy: 0.9135 - val_loss: 0.2951 - ...

Callbacks' messages (their `verbose: 1`) are printed after the line of the epoch that reported them.
The running metrics are read (a host synchronisation) at most a few times a second, never per step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from rich.console import Console, ConsoleOptions
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.text import Text

from modelspec.callbacks.runtime import Callback

#: Keras's bar width, in characters.
BAR_WIDTH = 20


def format_value(value: float) -> str:
    """A metric's value as Keras shows it: 4 decimals, or scientific notation at 0.001 and below (0.00004 is not 0.0000)."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_logs(logs: dict[str, float]) -> list[str]:
    """`name: value` for each log, in order."""
    return [f"{name}: {format_value(value)}" for name, value in logs.items()]


def format_step_time(seconds: float) -> str:
    """The time per step in Keras's units: `2s/step`, `12ms/step`, `52us/step`."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_eta(seconds: float) -> str:
    """The time left as Keras writes it: `7s`, `1:05`, `1:02:03`."""
    whole = int(seconds)  # Keras's %d: truncated
    if whole > 3600:
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    if whole > 60:
        return f"{whole // 60}:{whole % 60:02d}"
    return f"{whole}s"


class EpochProgress(Callback):
    """What both displays share: the epoch's clock, and the callbacks' messages held until the epoch's line is out."""

    def __init__(self, console: Console):
        self.console = console
        self.in_epoch = False
        self.held: list[str] = []

    def on_epoch_begin(self, epoch: int) -> None:
        self.started, self.in_epoch = time.perf_counter(), True

    def on_message(self, text: str) -> None:
        if self.in_epoch:
            self.held.append(text)
        else:
            self._say(text)

    def _epoch_done(self) -> None:
        """After the epoch's line: the messages its callbacks reported."""
        self.in_epoch = False
        for text in self.held:
            self._say(text)
        self.held = []

    def _say(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)

    def close(self) -> None:
        """End the display, as training ends or is interrupted."""


class PlainProgress(EpochProgress):
    """`Epoch 3/20 - 57/57 - 1s - 12ms/step - loss: 0.3127 - ...`: one line per epoch that never wraps (logs of shell scripts)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        seconds, steps = time.perf_counter() - self.started, self.params["steps"]
        counter = f"{steps}/{steps}"  # as Keras's verbose=2: the epoch's time over its steps, validation included
        line = " - ".join([f"Epoch {epoch + 1}/{self.params['epochs']}", counter, f"{seconds:.0f}s",
                           format_step_time(seconds / max(steps, 1)), *format_logs(logs)])
        self._say(line)
        self._epoch_done()


class BarLine:
    """Keras's bar line, `32/57 ━━━━━━━━━━━╸━━━━━━━━ 1s 12ms/step - loss: 0.3127 - ...` (a rich renderable): the
    metrics that do not fit the console's width on the next lines, indented."""

    def __init__(self, done: int, steps: int, timing: str, metrics: list[str]):
        self.done, self.steps, self.timing, self.metrics = done, steps, timing, metrics

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        bar = ProgressBar(total=max(self.steps, 1), completed=self.done, width=BAR_WIDTH, style="white", complete_style="green",
                          finished_style="green")  # Keras's colours
        drawn = Text.assemble(*((segment.text, segment.style) for segment in console.render(bar, options)))
        drawn.align("left", BAR_WIDTH)
        counter = f"{self.done:>{len(str(self.steps))}}/{self.steps}"
        line = Text.assemble((counter, "bold"), " ", drawn, " ", (self.timing, "bold"), overflow="fold")
        for item in self.metrics:
            if line.cell_len + len(item) + 3 > options.max_width and line.plain.strip():
                yield line
                line = Text("   ", overflow="fold")
            line.append(f" - {item}" if line.plain.strip() else item)
        yield line


class BarProgress(EpochProgress):
    """Keras's live bar for each epoch, with the running loss and metrics (read every `refresh_seconds` at most)."""

    def __init__(self, console: Console, refresh_seconds: float = 0.25):
        super().__init__(console)
        self.refresh_seconds = refresh_seconds
        self.live: Live | None = None

    def on_epoch_begin(self, epoch: int) -> None:
        super().on_epoch_begin(epoch)
        self._say(f"Epoch {epoch + 1}/{self.params['epochs']}")
        self.after_first_step: float | None = None
        self.last_drawn, self.metrics = 0.0, []
        # Redrawn by on_batch_end only (no refresh thread); taller than the terminal, the last frame still shows every line.
        self.live = Live(console=self.console, auto_refresh=False, transient=False, vertical_overflow="visible")
        self.live.start()

    def on_batch_end(self, epoch: int, step: int, steps: int, read_logs: Callable[[], dict[str, float]]) -> None:
        now = time.perf_counter()
        if step == 0:
            self.after_first_step = now
        if now - self.last_drawn < self.refresh_seconds:
            return
        self.last_drawn, self.metrics = now, format_logs(read_logs())
        per_step = self._per_step(step + 1, now)
        self.live.update(BarLine(step + 1, steps, f"{format_eta(per_step * (steps - step - 1))} {format_step_time(per_step)}", self.metrics),
                         refresh=True)

    def _per_step(self, done: int, now: float) -> float:
        """Keras's estimate: the first step (which warms up) left out once there are others."""
        if self.after_first_step is not None and done > 1:
            return (now - self.after_first_step) / (done - 1)
        return (now - self.started) / max(done, 1)

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        now, steps = time.perf_counter(), self.params["steps"]
        timing = f"{now - self.started:.0f}s {format_step_time(self._per_step(steps, now))}"
        self.live.update(BarLine(steps, steps, timing, format_logs(logs)), refresh=True)
        self.close()
        self._epoch_done()

    def on_train_end(self, logs: dict[str, float]) -> None:
        self.close()

    def close(self) -> None:
        """Stop the live display (the terminal's cursor back), as an epoch ends or training is interrupted."""
        if self.live is not None:
            self.live.stop()
            self.live = None
