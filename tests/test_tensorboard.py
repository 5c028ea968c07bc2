"""The TensorBoard callback (modelspec[tensorboard]): the event files are read back with TensorBoard's own
EventAccumulator and compared with history.csv (scalars and their steps, train/ and validation/ as Keras
writes them), weight histograms, the graph, batch-level scalars, resumed runs; then the config's checks
(log_dir inside the run directory, located FILE:LINE:COL) and the error when tensorboard is not installed.

The tests that read event files need tensorboard and are skipped without it; the checks and the
missing-package error are tested either way."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from modelspec.callbacks import config as configs
from modelspec.callbacks.runtime import Callback, TensorBoard
from modelspec.checked import check_spec
from modelspec.errors import ModelspecError
from modelspec.training.run import TrainingRun
from modelspec.weights import read_weights
from modelspec_cli.main import main
from tests.helpers import only_problem, write

SPEC = """
name: tiny
sequential:
  - {{type: Dense, units: 8, activation: relu, input_dim: 4, activity_regularizer: l2}}  # the traced forward must not add to a step's loss
  - {{type: Dropout, rate: 0.25}}
  - {{type: Dense, units: 3, activation: softmax}}
compile:
  optimizer: {{type: sgd, learning_rate: 0.05}}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
fit:
  epochs: {epochs}
  batch_size: 16
  validation_split: 0.25
  callbacks: {callbacks}
data:
  train: {{synthetic: {{samples: 64}}}}
"""
STEPS = 3  # 48 training rows in batches of 16


@pytest.fixture
def accumulator():
    """TensorBoard's reader of event files (the tests that need it are skipped without tensorboard)."""
    module = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

    def load(path: Path):
        events = module.EventAccumulator(str(path), size_guidance={module.SCALARS: 0, module.HISTOGRAMS: 0})  # 0: keep every event
        events.Reload()
        return events

    return load


def spec_file(tmp_path: Path, callbacks: list, epochs: int = 3, name: str = "tiny") -> Path:
    return write(tmp_path, SPEC.format(callbacks=json.dumps(callbacks), epochs=epochs), f"{name}.yaml")


def train(tmp_path: Path, callbacks: list, epochs: int = 3, name: str = "run", extra: list[Callback] = ()):
    return TrainingRun(check_spec(spec_file(tmp_path, callbacks, epochs, name)), tmp_path / name, seed=0, device="cpu", callbacks=list(extra)).fit()


def history_csv(run_dir: Path) -> dict[str, list[float]]:
    with open(run_dir / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {name: [float(row[name]) for row in rows] for name in rows[0]}


def scalars(events, tag: str) -> tuple[list[int], list[float]]:
    found = events.Scalars(tag)
    return [event.step for event in found], [event.value for event in found]


def approx(values: list[float]):
    return pytest.approx(values, rel=1e-6)  # TensorBoard keeps scalars as float32


# ----- what is written ---------------------------------------------------------------------------
def test_epoch_scalars_histograms_and_graph(tmp_path, accumulator):
    result = train(tmp_path, [{"type": "TensorBoard", "histogram_freq": 1}])
    assert result.status == "finished" and result.epochs == 3
    history = history_csv(result.run_dir)
    assert sorted(p.name for p in (result.run_dir / "logs").iterdir()) == ["train", "validation"]
    train_events, validation_events = accumulator(result.run_dir / "logs" / "train"), accumulator(result.run_dir / "logs" / "validation")
    # Keras's layout: training logs in train/, val_* ones (prefix stripped) in validation/, tags epoch_<name>, step = epoch.
    assert set(train_events.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert set(validation_events.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}
    for name in ("loss", "accuracy"):
        steps, values = scalars(train_events, f"epoch_{name}")
        assert steps == [0, 1, 2] and values == approx(history[name])
        steps, values = scalars(validation_events, f"epoch_{name}")
        assert steps == [0, 1, 2] and values == approx(history[f"val_{name}"])
    assert scalars(train_events, "epoch_learning_rate") == ([0, 1, 2], approx([0.05] * 3))
    # A histogram of every weight each epoch, named by layer and weight; the last one is of the final weights.
    weights = read_weights(result.run_dir / "model.safetensors")
    assert set(train_events.Tags()["histograms"]) == {f"{name.replace('.', '/')}/histogram" for name in weights}
    assert "dense/kernel/histogram" in train_events.Tags()["histograms"]
    for name, tensor in weights.items():
        found = train_events.Histograms(f"{name.replace('.', '/')}/histogram")
        assert [event.step for event in found] == [0, 1, 2]
        last = found[-1].histogram_value
        assert last.num == tensor.numel() and last.min == pytest.approx(float(tensor.min())) and last.max == pytest.approx(float(tensor.max()))
    # The graph, traced on a training batch: the model's linear layers are in it.
    assert train_events.Tags()["graph"] and not validation_events.Tags()["graph"]
    graph = train_events.Graph()
    assert any("linear" in node.op for node in graph.node), sorted({node.op for node in graph.node})


def test_training_is_unchanged_by_the_callback(tmp_path, accumulator):
    # Tracing the graph runs the model once (eval mode, random state put back); histograms and batch scalars only read.
    plain = train(tmp_path, [], name="plain")
    logged = train(tmp_path, [{"type": "TensorBoard", "histogram_freq": 1, "update_freq": 1, "write_steps_per_second": True}], name="logged")
    assert logged.history == plain.history
    a, b = read_weights(plain.run_dir / "model.safetensors"), read_weights(logged.run_dir / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("update_freq, steps", [(3, [3, 6, 9]), (2, [2, 4, 6, 8]), ("batch", list(range(1, 10))), (1, list(range(1, 10)))])
def test_batch_scalars_every_update_freq_batches(tmp_path, accumulator, update_freq, steps):
    result = train(tmp_path, [{"type": "TensorBoard", "update_freq": update_freq, "write_graph": False, "write_steps_per_second": True}])
    history = history_csv(result.run_dir)
    events = accumulator(result.run_dir / "logs" / "train")
    assert scalars(events, "batch_loss")[0] == steps and scalars(events, "batch_accuracy")[0] == steps
    # Step = the batch count since the first epoch: an epoch's last batch (3, 6, 9) holds that epoch's running value, its total.
    ends = {step: value for step, value in zip(*scalars(events, "batch_loss")) if step % STEPS == 0}
    if ends:
        assert list(ends) == [STEPS * (e + 1) for e in range(3) if STEPS * (e + 1) in steps]
        assert list(ends.values()) == approx([history["loss"][step // STEPS - 1] for step in ends])
    rates_steps, rates = scalars(events, "batch_steps_per_second")
    assert rates_steps == steps and all(rate > 0 for rate in rates)
    epoch_steps, epoch_rates = scalars(events, "epoch_steps_per_second")
    assert epoch_steps == [0, 1, 2] and all(rate > 0 for rate in epoch_rates)
    assert not events.Tags()["graph"] and not events.Tags()["histograms"]


def test_epoch_only_by_default_and_histograms_every_n_epochs(tmp_path, accumulator):
    result = train(tmp_path, [{"type": "TensorBoard", "histogram_freq": 2, "write_graph": False}], epochs=4)
    events = accumulator(result.run_dir / "logs" / "train")
    assert not [tag for tag in events.Tags()["scalars"] if tag.startswith("batch_")]
    assert all([event.step for event in events.Histograms(tag)] == [0, 2] for tag in events.Tags()["histograms"])
    assert events.Tags()["histograms"] and not events.Tags()["graph"]


def test_bare_name_log_dir_and_learning_rate_from_a_callback(tmp_path, accumulator):
    schedule = {"type": "LearningRateScheduler", "schedule": {"type": "exponential", "decay_rate": 0.5}}
    result = train(tmp_path, [schedule, {"type": "TensorBoard", "log_dir": "tb/one", "write_graph": False}, "TensorBoard"])
    history = history_csv(result.run_dir)
    assert history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])
    for log_dir in ("tb/one", "logs"):  # the bare name: Keras's defaults
        assert scalars(accumulator(result.run_dir / log_dir / "train"), "epoch_learning_rate") == ([0, 1, 2], approx(history["learning_rate"]))
    assert accumulator(result.run_dir / "logs" / "train").Tags()["graph"]


def test_a_model_that_cannot_be_traced_warns_and_trains(tmp_path, accumulator, monkeypatch):
    from torch.utils.tensorboard import SummaryWriter

    def cannot_trace(self, model, input_to_model=None, **kwargs):
        print("Error occurs, No graph saved")  # what add_graph prints: kept off stdout
        raise RuntimeError("Tracer cannot infer type of output\nmore detail")

    monkeypatch.setattr(SummaryWriter, "add_graph", cannot_trace)
    with pytest.warns(UserWarning, match=r"no graph written: torch.jit.trace could not trace this model \(RuntimeError: Tracer cannot infer type"):
        result = train(tmp_path, [{"type": "TensorBoard"}])
    assert result.status == "finished" and result.epochs == 3
    events = accumulator(result.run_dir / "logs" / "train")
    assert not events.Tags()["graph"] and scalars(events, "epoch_loss")[0] == [0, 1, 2]


def test_only_the_main_process_writes(tmp_path, accumulator):
    spec = spec_file(tmp_path, [{"type": "TensorBoard", "histogram_freq": 1, "update_freq": 1}])
    run = TrainingRun(check_spec(spec), tmp_path / "run", seed=0, device="cpu")
    run.is_main_process = False  # another process of a multi-process run: it writes nothing, its run directory included
    result = run.fit()
    assert result.status == "finished" and result.epochs == 3
    assert not (tmp_path / "run").exists()


# ----- resumed runs ------------------------------------------------------------------------------
class Interrupt(Callback):
    """Ctrl-C at the end of `epoch`, after the spec's callbacks (TensorBoard has written and flushed it), before its checkpoint;
    or, with `step`, after that batch of the epoch (what TensorBoard wrote of the epoch flushed to disk first)."""

    def __init__(self, epoch: int, step: int | None = None):
        self.epoch, self.step = epoch, step

    def on_epoch_end(self, epoch, logs):
        if self.step is None and epoch == self.epoch:
            raise KeyboardInterrupt

    def on_batch_end(self, epoch, step, steps, read_logs):
        if epoch == self.epoch and step == self.step:
            for callback in self.callbacks:  # the run's (set by the test)
                if isinstance(callback, TensorBoard):
                    for writer in callback.writers.values():
                        writer.flush()
            raise KeyboardInterrupt


def close_writers(interrupted: TrainingRun) -> None:
    for callback in interrupted.callbacks:
        if isinstance(callback, TensorBoard):
            callback.on_train_end({})


@pytest.mark.parametrize("update_freq, interrupt", [("epoch", Interrupt(1)), (1, Interrupt(1, step=1))])
def test_resume_continues_the_steps_and_drops_the_interrupted_epoch(tmp_path, accumulator, update_freq, interrupt):
    callbacks = [{"type": "TensorBoard", "update_freq": update_freq, "histogram_freq": 1}]
    uninterrupted = train(tmp_path, callbacks, name="whole")
    spec = spec_file(tmp_path, callbacks)
    first = TrainingRun(check_spec(spec), tmp_path / "run", seed=0, device="cpu", callbacks=[interrupt])
    interrupt.callbacks = first.callbacks
    with pytest.raises(KeyboardInterrupt):
        first.fit()
    close_writers(first)
    logs = tmp_path / "run" / "logs"
    stale = accumulator(logs / "train")  # the interrupted part wrote epoch 1 (or its first two batches) without a checkpoint
    if update_freq == "epoch":
        assert scalars(stale, "epoch_loss")[0] == [0, 1]
    else:
        assert scalars(stale, "batch_loss")[0] == [1, 2, 3, 4, 5]
    result = TrainingRun(check_spec(spec), tmp_path / "run", resume=True, seed=0, device="cpu").fit()
    assert result.status == "finished" and result.history == uninterrupted.history
    history = history_csv(result.run_dir)
    train_events, validation_events = accumulator(logs / "train"), accumulator(logs / "validation")
    assert len(list((logs / "train").glob("events.out.tfevents.*"))) == 2  # the resumed part appends a new event file
    for events, prefix in ((train_events, ""), (validation_events, "val_")):
        for name in ("loss", "accuracy"):
            assert scalars(events, f"epoch_{name}") == ([0, 1, 2], approx(history[f"{prefix}{name}"]))
    assert all([event.step for event in train_events.Histograms(tag)] == [0, 1, 2] for tag in train_events.Tags()["histograms"])
    if update_freq != "epoch":
        steps, values = scalars(train_events, "batch_loss")
        assert steps == list(range(1, 10))
        assert [values[2], values[5], values[8]] == approx(history["loss"])
    assert train_events.Tags()["graph"]  # written by the first part, not again


# ----- the config --------------------------------------------------------------------------------
def test_keras_defaults():
    config = configs.TensorBoard(type="TensorBoard")
    assert config.model_dump() == {
        "type": "TensorBoard", "log_dir": "logs", "histogram_freq": 0, "write_graph": True, "write_images": False,
        "write_steps_per_second": False, "update_freq": "epoch", "profile_batch": 0, "embeddings_freq": 0, "embeddings_metadata": None,
    }


VALIDATE = """\
name: tiny
sequential:
  - {type: Dense, units: 1, input_dim: 4}
compile: {loss: mse}
fit:
  callbacks:
    - TerminateOnNaN
    - {type: TensorBoard, %s: %s}
"""


def located(tmp_path: Path, key: str, value: str, expected: str) -> None:
    """The only problem is at the value of `key` (line 8), FILE:LINE:COL, with `expected` in its message."""
    problem = only_problem(tmp_path, VALIDATE % (key, value))
    line = (VALIDATE % (key, value)).splitlines()[7]
    assert (problem.line, problem.column) == (8, line.index(f"{key}: ") + len(key) + 3), str(problem)
    assert str(problem).startswith(f"{tmp_path / 'spec.yaml'}:8:{problem.column}: fit.callbacks[1].{key}: "), str(problem)
    assert expected in problem.message, str(problem)


@pytest.mark.parametrize("log_dir, why", [
    ("../outside", "'../outside' leads out of it through '..'"),
    ("logs/../../outside", "'logs/../../outside' leads out of it through '..'"),
    ("..", "'..' leads out of it through '..'"),
    ("/tmp/tensorboard", "'/tmp/tensorboard' is an absolute path"),
    ("'C:/logs'", "'C:/logs' is an absolute path"),
])
def test_log_dir_must_stay_inside_the_run_directory(tmp_path, log_dir, why):
    located(tmp_path, "log_dir", log_dir, f"must stay inside the run directory (it is relative to it): {why}")


def test_log_dir_inside_the_run_directory_is_valid(tmp_path):
    for log_dir in ("logs/tensorboard", "a/../b", ".", "tb"):
        check_spec(write(tmp_path, VALIDATE % ("log_dir", log_dir)))
    located(tmp_path, "log_dir", "''", "must name a directory inside the run directory")


@pytest.mark.parametrize("key, value, expected", [
    ("write_images", "true", "not supported (weights are not drawn as images"),
    ("profile_batch", "5", "not supported: the profiler is not available"),
    ("profile_batch", "[10, 20]", "not supported: the profiler is not available"),
    ("embeddings_freq", "1", "not supported (the embedding projector"),
    ("embeddings_metadata", "meta.tsv", "not supported (the embedding projector is not written): remove it"),
    ("update_freq", "epochs", "expected 'epoch', 'batch' or a number of batches >= 1, received 'epochs'"),
    ("update_freq", "0", "expected 'epoch', 'batch' or a number of batches >= 1, received 0"),
    ("update_freq", "true", "expected 'epoch', 'batch' or a number of batches >= 1, received true"),
    ("histogram_freq", "-1", "greater than or equal to 0"),
])
def test_arguments_not_supported_or_wrong_are_one_located_problem(tmp_path, key, value, expected):
    located(tmp_path, key, value, expected)


def test_unsupported_arguments_at_their_defaults_are_accepted(tmp_path):
    text = VALIDATE % ("write_images", "false, profile_batch: 0, embeddings_freq: 0, embeddings_metadata: null, update_freq: 100")
    spec = check_spec(write(tmp_path, text)).spec
    assert spec.fit.callbacks[1].update_freq == 100


def test_validate_command_reports_file_line_col(tmp_path):
    path = write(tmp_path, VALIDATE % ("log_dir", "../../elsewhere"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:8:" in result.output and "fit.callbacks[1].log_dir: must stay inside the run directory" in result.output


# ----- without tensorboard -----------------------------------------------------------------------
def without_tensorboard(monkeypatch) -> None:
    for name in ("tensorboard", "torch.utils.tensorboard"):
        monkeypatch.setitem(sys.modules, name, None)  # `import` raises ImportError, find_spec finds nothing


def test_without_tensorboard_training_fails_before_writing(tmp_path, monkeypatch):
    without_tensorboard(monkeypatch)
    spec = spec_file(tmp_path, [{"type": "TensorBoard"}])
    with pytest.raises(ModelspecError, match=r"needs the tensorboard package, which is not installed: pip install 'modelspec\[tensorboard\]'"):
        TrainingRun(check_spec(spec), tmp_path / "run", seed=0, device="cpu")
    result = CliRunner().invoke(main, ["train", str(spec), "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert "pip install 'modelspec[tensorboard]'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
    assert CliRunner().invoke(main, ["validate", str(spec)]).exit_code == 0  # checking a spec needs no tensorboard


# ----- the command line --------------------------------------------------------------------------
def test_train_command_with_json_keeps_stdout_clean(tmp_path, accumulator):
    spec = spec_file(tmp_path, [{"type": "TensorBoard", "histogram_freq": 1}])
    result = CliRunner().invoke(main, ["train", str(spec), "--run-dir", str(tmp_path / "run"), "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout.strip().splitlines()[-1])
    assert document["epochs"] == 3 and document["status"] == "finished"
    events = accumulator(tmp_path / "run" / "logs" / "train")
    assert events.Tags()["graph"] and scalars(events, "epoch_loss") == ([0, 1, 2], approx(document["history"]["loss"]))
