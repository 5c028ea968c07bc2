"""The README's guarantees for callbacks and the training plan (issue 15).

- Callbacks' files are names inside the run directory that cannot replace the run's own files
  (spec.yaml, history.csv, model.safetensors, checkpoint.pt, run.json, .lock, hidden names) nor each
  other's: a located spec error, before any work.
- What a callback reads from the logs (`monitor`, ModelCheckpoint's `{field}`s) is checked against the
  names training logs, derived from the training plan; a filepath template is parsed and its widths bounded.
- fit.jit_compile's compiler cache goes to modelspec's cache folder, not $TMPDIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from modelspec.errors import Problem
from modelspec.run_files import RESERVED, check_inside_run_dir
from modelspec_cli.main import main
from tests.helpers import only_problem, problems, write

SPEC = """
name: tiny
sequential:
  - {{type: Dense, units: 8, activation: relu, input_dim: 4}}
  - {{type: Dense, units: 3, activation: softmax}}
compile:
  optimizer: sgd
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
fit:
  epochs: {epochs}
  batch_size: 16{fit}
  callbacks:
    - TerminateOnNaN
{callbacks}
data:
  train: {{synthetic: {{samples: 32}}}}
"""
VALIDATION = "\n  validation_split: 0.25"


def spec_text(*callbacks: str, fit: str = VALIDATION, epochs: int = 1) -> str:
    return SPEC.format(callbacks="\n".join(f"    - {entry}" for entry in callbacks), fit=fit, epochs=epochs)


def located_at(problem: Problem, text: str, entry: int, needle: str) -> None:
    """`problem` is at the first `needle` of callback `entry` (0-based among those given, after TerminateOnNaN)."""
    lines = text.lstrip("\n").splitlines()  # as `write` saves it
    row = lines.index("    - TerminateOnNaN") + 1 + entry
    assert (problem.line, problem.column) == (row + 1, lines[row].index(needle) + 1), (str(problem), lines[row])


# ----- 2. callbacks write inside the run directory, never over its own files -----------------------------
OUTSIDE = [
    ("../x", "leads out of it through '..'"),
    ("a/../../x", "leads out of it through '..'"),
    ("/tmp/x", "is an absolute path"),
    ("'C:/x'", "is an absolute path"),
]
RESERVED_NAMES = ["spec.yaml", "history.csv", "model.safetensors", "checkpoint.pt", "run.json", ".lock",
                  "./run.json", "sub/../spec.yaml", "SPEC.YAML", ".hidden", "sub/.x", ".log.csv.a1b2.tmp", "spec.yaml/inner"]


@pytest.mark.parametrize("kind, key", [("ModelCheckpoint", "filepath"), ("CSVLogger", "filename"), ("TensorBoard", "log_dir")])
@pytest.mark.parametrize("value, why", OUTSIDE)
def test_callback_outputs_stay_inside_the_run_directory(tmp_path, kind, key, value, why):
    text = spec_text(f"{{type: {kind}, {key}: {value}}}")
    problem = only_problem(tmp_path, text)
    located_at(problem, text, 0, value)
    assert f"fit.callbacks[1].{key}: must stay inside the run directory (it is relative to it): '{value.strip(chr(39))}' {why}" in problem.message


@pytest.mark.parametrize("kind, key", [("ModelCheckpoint", "filepath"), ("CSVLogger", "filename"), ("TensorBoard", "log_dir")])
@pytest.mark.parametrize("value", RESERVED_NAMES)
def test_callback_outputs_cannot_replace_the_run_files(tmp_path, kind, key, value):
    text = spec_text(f"{{type: {kind}, {key}: {value}}}")
    problem = only_problem(tmp_path, text)
    located_at(problem, text, 0, value)
    assert f"fit.callbacks[1].{key}: '{value}'" in problem.message and "reserved" in problem.message, str(problem)


@pytest.mark.parametrize("kind, key, value, expected", [
    ("ModelCheckpoint", "filepath", "''", "must name a file inside the run directory"),
    ("CSVLogger", "filename", "'  '", "must name a file inside the run directory"),
    ("CSVLogger", "filename", ".", "must name a file inside the run directory"),
    ("CSVLogger", "filename", '"a\\0b.csv"', "control character"),
    ("CSVLogger", "filename", "x" * 300, "300 bytes, longer than the 255"),
])
def test_empty_or_impossible_names_are_refused(tmp_path, kind, key, value, expected):
    text = spec_text(f"{{type: {kind}, {key}: {value}}}")
    problem = only_problem(tmp_path, text)
    located_at(problem, text, 0, value)
    assert f"fit.callbacks[1].{key}: " in problem.message and expected in problem.message, str(problem)


def test_the_reserved_names_are_the_run_directorys_files(tmp_path):
    # Every file a finished run holds is reserved, and nothing else of it: the list is the run directory's own.
    from modelspec.checked import check_spec
    from modelspec.training.run import TrainingRun

    result = TrainingRun(check_spec(write(tmp_path, spec_text(fit=""))), tmp_path / "run", device="cpu").fit()
    assert {path.name for path in result.run_dir.iterdir()} == set(RESERVED)
    assert check_inside_run_dir("logs/../ckpt/best.safetensors") == "ckpt/best.safetensors"
    assert check_inside_run_dir(".", directory=True) == "."


@pytest.mark.parametrize("entries, at, expected", [
    (["{type: CSVLogger, filename: log.csv}", "{type: CSVLogger, filename: ./log.csv}"], "./log.csv",
     "'./log.csv' is also written by CSVLogger (fit.callbacks[1].filename)"),
    (["{type: CSVLogger, filename: best.safetensors}", "ModelCheckpoint"], "ModelCheckpoint",
     "'best.safetensors' is also written by CSVLogger (fit.callbacks[1].filename)"),
    (["TensorBoard", "{type: CSVLogger, filename: logs/log.csv}"], "logs/log.csv",
     "'logs/log.csv' is inside 'logs', which TensorBoard (fit.callbacks[1].log_dir) writes"),
    (["{type: TensorBoard, log_dir: .}", "{type: ModelCheckpoint, filepath: train}"], "train",
     "'train' is also written by TensorBoard (fit.callbacks[1].log_dir)"),
    (["{type: CSVLogger, filename: ckpt/log.csv}", "{type: ModelCheckpoint, filepath: ckpt}"], "ckpt",
     "'ckpt' would be the folder of 'ckpt/log.csv', which CSVLogger (fit.callbacks[1].filename) writes"),
])
def test_two_callbacks_cannot_write_the_same_file(tmp_path, entries, at, expected):
    text = spec_text(*entries)
    problem = only_problem(tmp_path, text)
    located_at(problem, text, 1, at)
    assert problem.message.startswith("fit.callbacks[2]") and expected in problem.message, str(problem)


def test_outputs_that_do_not_collide_are_valid(tmp_path):
    from modelspec.checked import check_spec

    check_spec(write(tmp_path, spec_text("{type: CSVLogger, filename: logs.csv}", "TensorBoard", "{type: TensorBoard, log_dir: tb}",
                                         "{type: ModelCheckpoint, filepath: 'ckpt/{epoch:02d}.safetensors'}",
                                         "{type: CSVLogger, filename: ckpt/log.csv}")))


def test_train_refuses_a_callback_over_the_lock_and_writes_nothing(tmp_path):
    text = spec_text("{type: CSVLogger, filename: .lock}", "{type: CSVLogger, filename: ../escaped.csv}")
    (tmp_path / "work").mkdir()
    path = write(tmp_path / "work", text)
    result = CliRunner().invoke(main, ["train", str(path), "--run-dir", str(tmp_path / "work" / "run")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and f"{path}:" in result.output and "'.lock'" in result.output and "'../escaped.csv'" in result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["spec.yaml", "work"]


# ----- 13. what a callback reads from the logs is checked against the plan ---------------------------------
@pytest.mark.parametrize("entry, needle, expected", [
    ("{type: EarlyStopping, monitor: val_acuracy}", "val_acuracy", "monitor: 'val_acuracy' is not a name training logs (did you mean 'val_accuracy'?)"),
    ("{type: ReduceLROnPlateau, monitor: los}", "los", "monitor: 'los' is not a name training logs (did you mean 'loss'?)"),
    ("{type: ModelCheckpoint, monitor: val_acc, save_best_only: true}", "val_acc", "(did you mean 'val_accuracy'?)"),
    ("{type: ModelCheckpoint, monitor: zzz}", "zzz",  # given, so checked, even where save_best_only would not read it
     "monitor: 'zzz' is not a name training logs (logged: 'accuracy', 'loss', 'val_accuracy', 'val_loss')"),
])
def test_a_misspelled_monitor_is_a_located_error(tmp_path, entry, needle, expected):
    text = spec_text(entry)
    problem = only_problem(tmp_path, text)
    located_at(problem, text, 0, needle)
    assert problem.message.startswith("fit.callbacks[1].") and expected in problem.message, str(problem)


def test_a_val_monitor_needs_validation_data(tmp_path):
    text = spec_text("{type: EarlyStopping, patience: 2}", "{type: ReduceLROnPlateau, monitor: val_accuracy}", fit="")
    found = problems(tmp_path, text)
    assert len(found) == 2, [str(p) for p in found]
    located_at(found[0], text, 0, "{")
    assert found[0].message.startswith("fit.callbacks[1].monitor: 'val_loss' (the default) is logged only with validation data")
    located_at(found[1], text, 1, "val_accuracy")
    assert "add data.validation or fit.validation_split, or monitor 'accuracy'" in found[1].message


def test_learning_rate_is_a_monitor_after_the_callback_that_logs_it(tmp_path):
    from modelspec.checked import check_spec

    check_spec(write(tmp_path, spec_text("{type: LearningRateScheduler, schedule: {type: exponential, decay_rate: 0.9}}",
                                         "{type: EarlyStopping, monitor: learning_rate}", "{type: ReduceLROnPlateau, monitor: learning_rate}")))
    text = spec_text("{type: EarlyStopping, monitor: learning_rate}", "{type: ReduceLROnPlateau, monitor: loss}")
    problem = only_problem(tmp_path, text)
    located_at(problem, text, 0, "learning_rate")
    assert "'learning_rate' is logged by ReduceLROnPlateau (fit.callbacks[2]), which runs after this callback: list it before" in problem.message


def test_multi_output_monitors_use_the_output_names(tmp_path):
    text = """
        name: two
        inputs: {x: {shape: [4]}}
        layers:
          - {name: a, type: Dense, units: 2, activation: softmax, inputs: x}
          - {name: b, type: Dense, units: 1, inputs: x}
        outputs: [a, b]
        compile: {optimizer: sgd, loss: {a: sparse_categorical_crossentropy, b: mse}, metrics: {a: [accuracy]}}
        fit:
          validation_split: 0.25
          callbacks:
            - {type: EarlyStopping, monitor: val_a_accuracy}
            - {type: ModelCheckpoint, filepath: '{epoch}-{b_loss:.3f}.safetensors', monitor: accuracy, save_best_only: true}
    """
    problem = only_problem(tmp_path, text)
    assert "fit.callbacks[1].monitor: 'accuracy' is not a name training logs (did you mean 'a_accuracy'?)" in problem.message, str(problem)


def test_the_logged_names_are_what_the_engine_logs(tmp_path):
    from modelspec.checked import check_spec
    from modelspec.training.run import TrainingRun

    prepared = check_spec(write(tmp_path, spec_text()))
    result = TrainingRun(prepared, tmp_path / "run", device="cpu").fit()
    assert set(prepared.plan.logged_names()) == set(result.history) - {"epoch"} == {"loss", "accuracy", "val_loss", "val_accuracy"}


@pytest.mark.parametrize("filepath, expected", [
    ("'{no_such_metric}.safetensors'", "'{no_such_metric}' is not a name training logs nor 'epoch'"),
    ("'{val_los:.2f}.safetensors'", "'{val_los}' is not a name training logs nor 'epoch' (did you mean 'val_loss'?)"),
    ("'{epoch:999999999d}.safetensors'", "the width 999999999 of '{epoch:999999999d}' is too large: at most 64"),
    ("'{val_loss:.100000000f}.safetensors'", "the precision 100000000 of '{val_loss:.100000000f}' is too large: at most 64"),
    ("'{loss:d}.safetensors'", "'{loss:d}' cannot format the value of loss (a number): Unknown format code 'd'"),
    ("'{epoch:q}.safetensors'", "'{epoch:q}' is not a valid format spec"),
    ("'{epoch:{width}}.safetensors'", "'{epoch:{width}}': a format spec cannot hold another field"),
    ("'{}.safetensors'", "'{}': name the field, e.g. {epoch} or {val_loss:.4f}"),
    ("'{0}.safetensors'", "'{0}': name the field, e.g. {epoch} or {val_loss:.4f}"),
    ("'{epoch.__class__}.safetensors'", "'{epoch.__class__}': only plain names, no attributes or items"),
    ("'{epoch!x}.safetensors'", "'{epoch!x}' cannot format the value of epoch (an integer)"),
    ("'{epoch.safetensors'", "is not a valid file name template: expected '}' before end of string (write {{ and }} for literal braces)"),
    ("'{epoch:/>5}.safetensors'", "a format spec cannot hold a path separator"),
    ("'{epoch:.>3}.safetensors'", "'..1.safetensors' at epoch 1"),
])
def test_a_bad_filepath_template_is_a_located_error(tmp_path, filepath, expected):
    text = spec_text(f"{{type: ModelCheckpoint, filepath: {filepath}}}")
    started = time.perf_counter()
    problem = only_problem(tmp_path, text)
    assert time.perf_counter() - started < 5  # nothing huge was formatted
    located_at(problem, text, 0, filepath)
    assert problem.message.startswith("fit.callbacks[1].filepath: ") and expected in problem.message, str(problem)


def test_a_val_field_needs_validation_every_epoch_unless_saved_with_it(tmp_path):
    every_other = VALIDATION + "\n  validation_freq: 2"
    text = spec_text("{type: ModelCheckpoint, filepath: '{epoch}-{val_loss:.2f}.safetensors'}", fit=every_other)
    problem = only_problem(tmp_path, text)
    assert "'{val_loss}' is logged only in the epochs that validate (fit.validation_freq: 2)" in problem.message, str(problem)
    # Saved only when val_loss improves, so only in epochs that validate: those have every val_* value.
    from modelspec.checked import check_spec
    from modelspec.training.run import TrainingRun

    path = write(tmp_path, spec_text("{type: ModelCheckpoint, filepath: 'w/{epoch}-{val_loss:.2f}.safetensors', save_best_only: true}",
                                     fit=every_other, epochs=3))
    result = TrainingRun(check_spec(path), tmp_path / "run", device="cpu").fit()
    assert result.status == "finished" and [p.name.split("-")[0] for p in (result.run_dir / "w").iterdir()] == ["2"]


def test_validate_reports_the_plan_checks(tmp_path):
    path = write(tmp_path, spec_text("{type: EarlyStopping, monitor: val_acuracy}", "{type: ModelCheckpoint, filepath: '{val_los}'}"))
    result = subprocess.run([sys.executable, "-m", "modelspec", "validate", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{path}:15:") and "did you mean 'val_accuracy'?" in lines[0], lines
    assert lines[1].startswith(f"{path}:16:") and "did you mean 'val_loss'?" in lines[1], lines


# ----- 4. jit_compile's compiler cache goes to modelspec's cache folder ----------------------------------
def test_modelspec_compiles_into_its_cache_folder(tmp_path, monkeypatch):
    # Both places modelspec calls torch.compile set the folder first (torch.compile itself is lazy: nothing compiles here).
    import torch
    from torch._inductor import codecache

    from modelspec.optimizers import optimizer_config
    from modelspec.optimizers.runtime import build_optimizer
    from modelspec.training.engine import compile_module

    for compile_something in (lambda: build_optimizer(optimizer_config("sgd"), [torch.zeros(2, requires_grad=True)]).compile_update(),
                              lambda: compile_module(torch.nn.Linear(2, 2))):
        monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
        monkeypatch.setenv("MODELSPEC_CACHE_DIR", str(tmp_path / "cache"))
        monkeypatch.setattr(codecache, "_HEADER_DIR", codecache._HEADER_DIR)  # put back after the test
        monkeypatch.setattr(codecache, "_HEADER_LOCK_DIR", codecache._HEADER_LOCK_DIR)
        compile_something()
        assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "cache" / "torchinductor")
        # torch 2.13 takes the precompiled headers' folder from $TMPDIR, not from that variable: moved too
        assert codecache._HEADER_DIR == str(tmp_path / "cache" / "torchinductor" / "precompiled_headers")


def test_the_compiler_cache_folder_is_torchs_choice_too(tmp_path, monkeypatch):
    from torch._inductor import codecache
    from torch._inductor.runtime.cache_dir_utils import cache_dir

    from modelspec.training.compile_cache import use_compile_cache

    monkeypatch.setattr(codecache, "_HEADER_DIR", codecache._HEADER_DIR)
    monkeypatch.setattr(codecache, "_HEADER_LOCK_DIR", codecache._HEADER_LOCK_DIR)
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("MODELSPEC_CACHE_DIR", str(tmp_path / "cache"))
    use_compile_cache()
    assert cache_dir() == str(tmp_path / "cache" / "torchinductor")  # torch's own decision, after ours
    assert (tmp_path / "cache" / "torchinductor").stat().st_mode & 0o777 == 0o700
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "mine"))
    use_compile_cache()
    assert cache_dir() == str(tmp_path / "mine")  # a user's own setting is kept
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR")
    monkeypatch.setenv("MODELSPEC_CACHE_DIR", "off")
    folder = use_compile_cache()
    assert cache_dir() == str(folder) and folder.name.startswith("modelspec-compile-") and folder.is_dir()  # removed at exit


@pytest.mark.skipif(not os.environ.get("MODELSPEC_SLOW_TESTS"), reason="compiles with inductor from a cold cache: 38-45 s on a 2-core CPU; "
                    "MODELSPEC_SLOW_TESTS=1 runs it")
def test_jit_compile_writes_nothing_under_tmpdir(tmp_path):
    path = write(tmp_path, spec_text(fit="\n  jit_compile: true"))
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "MODELSPEC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("TORCHINDUCTOR_CACHE_DIR", None)
    result = subprocess.run([sys.executable, "-m", "modelspec", "train", str(path), "--run-dir", str(tmp_path / "run"), "--json"],
                            capture_output=True, text=True, env=env, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["status"] == "finished"
    assert list((tmp_path / "tmp").iterdir()) == []
    assert any((tmp_path / "cache" / "torchinductor").rglob("*.so"))
