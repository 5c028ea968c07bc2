"""Issue 17 (friction a new user found): training progress as Keras shows it, and callbacks' `verbose`.

- Piped (not a terminal), an epoch is one line however many metrics, never wrapped:
  `Epoch 2/2 - 36/36 - 0s - 3ms/step - loss: ... - val_loss: ...` (Keras's verbose=2 line after the epoch).
- On a terminal, `Epoch 2/2` on its own line, then Keras's bar `32/36 ━━━━━━━━━━━━━━━━━━╸━ 0s 3ms/step - loss: ...`
  (an ETA while the epoch runs, the time taken at its end), its metrics wrapped onto more lines, never cut.
- EarlyStopping, ModelCheckpoint, ReduceLROnPlateau and LearningRateScheduler take Keras's `verbose` (default 0)
  and, with verbose: 1, report Keras's messages through their context, which the CLI prints after the epoch line.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time

import pytest
from click.testing import CliRunner
from rich.console import Console

from modelspec.callbacks import config as configs
from modelspec.callbacks.runtime import EarlyStopping, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau
from modelspec.checked import check_spec
from modelspec.training.run import TrainingRun
from modelspec_cli.main import main
from modelspec_cli.progress import BarProgress, PlainProgress, format_eta, format_step_time
from tests.helpers import SPECS, only_problem, write
from tests.test_callbacks import PARAMS, FakeContext

SPEC = SPECS / "digits_mlp.yaml"
#: 7 names logged for training and 7 for validation: more than 80 columns' worth.
MANY = ["fit.epochs=2", "fit.validation_split=0.2", "compile.metrics=[accuracy, top_k_categorical_accuracy, mse, mae, precision, recall]"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def sets(overrides: list[str]) -> list[str]:
    return [part for override in overrides for part in ("--set", override)]


@pytest.fixture
def narrow_stdout():
    """The CLI's stdout console 80 columns wide, as a pipe with COLUMNS=80 makes it."""
    from modelspec_cli.console import stdout as lazy

    console = lazy.real
    saved = console._width
    console.width = 80
    yield
    console._width = saved


def history_rows(run_dir) -> list[dict[str, str]]:
    with open(run_dir / "history.csv", newline="") as file:
        return list(csv.DictReader(file))


def shown_values(text: str) -> dict[str, float]:
    """`name: value` pairs as an epoch line shows them."""
    return {name: float(value) for name, value in re.findall(r"(?:^| )([a-z_]+): (-?[0-9.]+(?:e[-+]\d+)?)", text)}


def assert_every_metric_shown(text: str, row: dict[str, str]) -> None:
    shown = shown_values(text)
    names = [name for name in row if name != "epoch"]
    assert len(names) == 14 and set(names) <= set(shown), (names, text)
    for name in names:
        assert shown[name] == pytest.approx(float(row[name]), abs=1e-4, rel=1e-3), name


# ----- item 1: epoch lines ---------------------------------------------------------------------------
def test_piped_epoch_lines_stay_one_line_each_with_every_metric(tmp_path, narrow_stdout):
    run_dir = tmp_path / "run"
    result = cli("train", SPEC, *sets(MANY), "--run-dir", run_dir, "--device", "cpu")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    epoch_lines = [line for line in lines if line.startswith("Epoch ")]
    assert len(epoch_lines) == 2 and lines[1] == epoch_lines[0] and lines[2] == epoch_lines[1], result.output  # nothing wrapped
    for line, row in zip(epoch_lines, history_rows(run_dir)):
        # Keras's verbose=2 line after modelspec's epoch counter: steps, seconds, time per step, then the logs.
        assert re.match(r"Epoch [12]/2 - (\d+)/\1 - \d+s - \d+(s|ms|us)/step - loss: ", line), line
        assert_every_metric_shown(line, row)
        assert len(line) > 80


def terminal_run(tmp_path, width: int = 80) -> tuple[str, list[dict[str, str]]]:
    """Train with the terminal's bar (redrawn at every step) on a rich console `width` columns wide: its text, ANSI codes removed."""
    file = io.StringIO()
    console = Console(file=file, force_terminal=True, width=width, color_system="truecolor")
    overrides = [*MANY, "fit.epochs=1", "fit.steps_per_epoch=8"]
    run = TrainingRun(check_spec(SPEC, overrides), tmp_path / "run", device="cpu", callbacks=[BarProgress(console, refresh_seconds=0)])
    run.fit()
    return ANSI.sub("", file.getvalue()), history_rows(tmp_path / "run")


def test_terminal_bar_wraps_the_metrics_and_cuts_nothing_at_80_columns(tmp_path):
    text, rows = terminal_run(tmp_path)
    frames = [line for line in re.split(r"[\r\n]", text) if line.strip()]
    assert "…" not in text and all(len(line) <= 80 for line in frames), text
    assert "Epoch 1/1" in frames  # on a line of its own
    last_frame = text[text.rindex("Epoch 1/1"):]
    # The epoch's last frame: steps/steps, the bar, the seconds it took and the time per step, then every metric.
    ends = list(re.finditer(r"(\d+)/\1 [━╸╺ ]+ \d+s \d+(s|ms|us)/step", last_frame))
    assert ends, text
    assert_every_metric_shown(last_frame[ends[-1].start():], rows[-1])
    # While the epoch runs: the step, the bar and an ETA (Keras: 12s, 1:05 or 1:02:03) with the time per step.
    running = [m for m in re.finditer(r"(\d+)/(\d+) [━╸╺ ]+ (\d+s|\d+:\d\d(?::\d\d)?) \d+(s|ms|us)/step", text) if int(m[1]) < int(m[2])]
    assert running, text


def test_terminal_bar_is_one_line_when_it_fits(tmp_path):
    text, rows = terminal_run(tmp_path, width=400)
    last = [line for line in re.split(r"[\r\n]", text) if line.strip()][-1]
    assert re.match(r"(\d+)/\1 [━]+ \d+s \d+(s|ms|us)/step - loss: ", last), text
    assert_every_metric_shown(last, rows[-1])


@pytest.mark.parametrize("seconds, shown", [(0.0, "0s/step"), (2.4, "2s/step"), (0.0123, "12ms/step"), (5.2e-5, "52us/step")])
def test_time_per_step_in_keras_units(seconds, shown):
    assert format_step_time(seconds) == shown


@pytest.mark.parametrize("seconds, shown", [(7.9, "7s"), (65, "1:05"), (3723, "1:02:03")])
def test_eta_as_keras_writes_it(seconds, shown):
    assert format_eta(seconds) == shown


def drive_steps(progress, steps: int) -> tuple[int, float]:
    """An epoch of `steps` quick steps; how often the logs were read (a host synchronisation), and the seconds it took."""
    reads = []

    def read_logs() -> dict[str, float]:
        reads.append(1)
        return {"loss": 1.0}

    progress.set_context(None, {**PARAMS, "epochs": 1, "steps": steps})
    progress.on_train_begin()
    progress.on_epoch_begin(0)
    started = time.perf_counter()
    for step in range(steps):
        progress.on_batch_end(0, step, steps, read_logs)
    seconds = time.perf_counter() - started
    progress.on_epoch_end(0, {"loss": 1.0})
    progress.on_train_end({"loss": 1.0})
    return len(reads), seconds


def test_the_bar_reads_the_metrics_a_few_times_a_second_never_per_step():
    reads, seconds = drive_steps(BarProgress(Console(file=io.StringIO(), force_terminal=True, width=80)), 3000)
    assert reads <= 2 + 4 * seconds, (reads, seconds)


def test_plain_lines_never_read_the_running_metrics():
    assert drive_steps(PlainProgress(Console(file=io.StringIO(), width=80)), 500)[0] == 0


# ----- item 2: callbacks' verbose ----------------------------------------------------------------------
VERBOSE_CALLBACKS = ["{type: EarlyStopping, verbose: 1}", "{type: ModelCheckpoint, verbose: 1}", "{type: ReduceLROnPlateau, verbose: 1}",
                     "{type: LearningRateScheduler, schedule: {type: exponential, decay_rate: 0.5}, verbose: 1}"]


@pytest.mark.parametrize("entry", VERBOSE_CALLBACKS)
def test_keras_callbacks_with_verbose_accept_it(entry):
    checked = check_spec(SPEC, [f"fit.callbacks=[{entry}]", "fit.validation_split=0.2"])
    assert checked.spec.fit.callbacks[0].verbose == 1


@pytest.mark.parametrize("name", ["EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler"])
def test_verbose_defaults_to_0_as_in_keras(name):
    extra = {"schedule": {"type": "exponential", "decay_rate": 0.5}} if name == "LearningRateScheduler" else {}
    assert configs.CALLBACKS[name](type=name, **extra).verbose == 0


@pytest.mark.parametrize("entry", ["{type: CSVLogger, verbose: 1}", "{type: TerminateOnNaN, verbose: 1}", "{type: TensorBoard, verbose: 1}"])
def test_callbacks_without_verbose_in_keras_refuse_it(tmp_path, entry):
    spec = write(tmp_path, SPEC.read_text().replace("fit: {epochs: 20, batch_size: 32}", f"fit: {{epochs: 1, callbacks: [{entry}]}}"))
    problem = only_problem(tmp_path, spec.read_text())
    assert "verbose" in str(problem), str(problem)


class Recording(FakeContext):
    """FakeContext with the messages callbacks report."""

    def __init__(self, run_dir, learning_rate=0.1):
        super().__init__(run_dir, learning_rate)
        self.messages: list[str] = []

    def message(self, text: str) -> None:
        self.messages.append(text)


def epochs(callback, values: list[float], tmp_path, monitor: str = "val_loss", learning_rate: float = 0.1) -> list[str]:
    """The loop's calls for one monitored value an epoch; the messages the callback reported."""
    context = Recording(tmp_path, learning_rate)
    callback.set_context(context, PARAMS)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {monitor: value})
        if context.stop_reason:
            break
    callback.on_train_end({monitor: value})
    return context.messages


@pytest.mark.parametrize("verbose", [0, 1])
def test_early_stopping_says_when_it_stops_and_what_it_restores(tmp_path, verbose):
    callback = EarlyStopping(configs.EarlyStopping(type="EarlyStopping", patience=1, restore_best_weights=True, verbose=verbose))
    messages = epochs(callback, [1.0, 0.5, 0.7, 0.8, 0.9], tmp_path)
    assert messages == (["Epoch 3: early stopping", "Restoring model weights from the end of the best epoch: 2."] if verbose else [])


@pytest.mark.parametrize("verbose", [0, 1])
def test_model_checkpoint_says_what_it_saves(tmp_path, verbose):
    best = ModelCheckpoint(configs.ModelCheckpoint(type="ModelCheckpoint", save_best_only=True, verbose=verbose))
    path = tmp_path / "best.safetensors"
    assert epochs(best, [0.51234, 0.6, 0.4], tmp_path) == ([
        f"Epoch 1: val_loss improved from inf to 0.51234, saving model to {path}",
        "Epoch 2: val_loss did not improve from 0.51234",
        f"Epoch 3: val_loss improved from 0.51234 to 0.40000, saving model to {path}",
    ] if verbose else [])
    every = ModelCheckpoint(configs.ModelCheckpoint(type="ModelCheckpoint", filepath="w{epoch}.safetensors", verbose=verbose))
    assert epochs(every, [1.0], tmp_path) == ([f"Epoch 1: saving model to {tmp_path / 'w1.safetensors'}"] if verbose else [])


@pytest.mark.parametrize("verbose", [0, 1])
def test_reduce_lr_on_plateau_says_the_new_rate(tmp_path, verbose):
    callback = ReduceLROnPlateau(configs.ReduceLROnPlateau(type="ReduceLROnPlateau", patience=1, verbose=verbose))
    messages = epochs(callback, [1.0, 1.0, 1.0], tmp_path, learning_rate=0.001)
    assert messages == (["Epoch 2: ReduceLROnPlateau reducing learning rate to 0.0001.",
                         "Epoch 3: ReduceLROnPlateau reducing learning rate to 1e-05."] if verbose else [])


@pytest.mark.parametrize("verbose", [0, 1])
def test_learning_rate_scheduler_says_each_epochs_rate(tmp_path, verbose):
    schedule = {"type": "exponential", "decay_rate": 0.5}
    callback = LearningRateScheduler(configs.LearningRateScheduler(type="LearningRateScheduler", schedule=schedule, verbose=verbose))
    messages = epochs(callback, [1.0, 1.0], tmp_path)
    assert messages == (["Epoch 1: LearningRateScheduler setting learning rate to 0.1.",
                         "Epoch 2: LearningRateScheduler setting learning rate to 0.05."] if verbose else [])


#: The loss falls, so in max mode epoch 2 does not improve on epoch 1: ModelCheckpoint skips it, EarlyStopping stops.
CLI_CALLBACKS = ("fit.callbacks=[{{type: EarlyStopping, monitor: loss, mode: max, patience: 0, verbose: {v}}}, "
                 "{{type: ModelCheckpoint, monitor: loss, mode: max, save_best_only: true, verbose: {v}}}]")


def test_the_cli_prints_the_messages_after_their_epoch_line(tmp_path):
    run_dir = tmp_path / "run"
    result = cli("train", SPEC, *sets(["fit.epochs=3", "fit.steps_per_epoch=8", CLI_CALLBACKS.format(v=1)]), "--run-dir", run_dir, "--device", "cpu")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("Epoch 1/3")))
    saved = re.fullmatch(r"Epoch 1: loss improved from -inf to (\d\.\d{5}), saving model to (.+)", lines[start + 1])
    assert saved and saved[2] == str(run_dir / "best.safetensors"), result.output
    assert lines[start + 2].startswith("Epoch 2/3 - ")
    assert lines[start + 3:start + 5] == [f"Epoch 2: loss did not improve from {saved[1]}", "Epoch 2: early stopping"], result.output


def test_json_sends_the_messages_to_stderr_and_quiet_drops_them(tmp_path):
    overrides = sets(["fit.epochs=3", "fit.steps_per_epoch=8", CLI_CALLBACKS.format(v=1)])
    as_json = CliRunner().invoke(main, ["train", str(SPEC), *overrides, "--run-dir", str(tmp_path / "a"), "--device", "cpu", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["epochs"] == 2  # stdout: the one JSON document
    assert "Epoch 2: early stopping" in as_json.stderr and as_json.stderr.index("Epoch 2/3") < as_json.stderr.index("Epoch 2: early stopping")
    quiet = cli("train", SPEC, *overrides, "--run-dir", tmp_path / "q", "--device", "cpu", "--quiet")
    assert quiet.exit_code == 0 and "Epoch" not in quiet.output, quiet.output


def test_verbose_0_prints_no_messages(tmp_path):
    result = cli("train", SPEC, *sets(["fit.epochs=3", "fit.steps_per_epoch=8", CLI_CALLBACKS.format(v=0)]), "--run-dir", tmp_path / "run", "--device", "cpu")
    assert result.exit_code == 0, result.output
    epoch_lines = [line for line in result.output.splitlines() if line.startswith("Epoch")]
    assert len(epoch_lines) == 2 and all(re.match(r"Epoch \d/3 - ", line) for line in epoch_lines), result.output
    assert "early stopping" not in result.output and "saving model" not in result.output
