"""Issue 17, the friction a new user found with --set and validate:

1. a field set inside a value given by name (`optimizer: adam`) makes the name's object form, and
   the README's sweep loop runs as written on the starter spec;
2. every command that checks a spec takes --set;
3. validate of several files gives each file's result;
4. a problem an override causes is located at that --set, not at a line of the base file.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from modelspec.checked import check_spec
from modelspec.errors import SpecError
from modelspec.templates import template_text
from modelspec_cli.main import main
from tests.helpers import ROOT, write

TINY = """
name: tiny
sequential:
  - {type: Input, shape: [4]}
  - {type: Dense, units: 3, activation: softmax, kernel_regularizer: l1_l2, kernel_constraint: max_norm}
compile:
  optimizer: adam
  loss: categorical_crossentropy
  metrics: [accuracy, top_k_categorical_accuracy]
fit:
  epochs: 1
  batch_size: 4
  callbacks: [EarlyStopping]
  validation_split: 0.25
data:
  train: {synthetic: {samples: 16}}
"""


def _problems(spec: Path, overrides: list[str]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        check_spec(spec, overrides)
    return [str(problem) for problem in caught.value.problems]


def _env() -> dict[str, str]:
    """This checkout's modelspec for the `modelspec` script, and a wide terminal for rich's tables."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), "COLUMNS": "200"}


# 1. a field inside a name makes its object form ------------------------------------------------


@pytest.mark.parametrize(("override", "read", "expected"), [
    ("compile.optimizer.learning_rate=0.01", lambda s: s.compile.optimizer, {"type": "adam", "learning_rate": 0.01}),
    ("compile.loss.label_smoothing=0.1", lambda s: s.compile.loss, {"type": "categorical_crossentropy", "label_smoothing": 0.1}),
    ("compile.metrics.1.k=2", lambda s: s.compile.metrics[1], {"type": "top_k_categorical_accuracy", "k": 2}),
    ("sequential.1.kernel_regularizer.l1=0.5", lambda s: s.sequential[1].kernel_regularizer, {"type": "l1_l2", "l1": 0.5, "l2": 0.01}),
    ("sequential.1.kernel_constraint.max_value=3.0", lambda s: s.sequential[1].kernel_constraint, {"type": "max_norm", "max_value": 3.0}),
    ("fit.callbacks.0.patience=4", lambda s: s.fit.callbacks[0], {"type": "EarlyStopping", "patience": 4}),
], ids=["optimizer", "loss", "metric", "regularizer", "constraint", "callback"])
def test_a_field_set_inside_a_name_makes_its_object_form(tmp_path, override, read, expected):
    checked = check_spec(write(tmp_path, TINY), [override])
    config = read(checked.spec).model_dump()
    assert {key: config[key] for key in expected} == expected


def test_l1_l2_keeps_what_its_name_means_in_the_spec_as_trained(tmp_path):
    """The bare name l1_l2 is l1 = l2 = 0.01; setting l1 keeps l2 = 0.01, written in the data (run's spec.yaml) too."""
    checked = check_spec(write(tmp_path, TINY), ["sequential.1.kernel_regularizer.l1=0.5"])
    assert checked.located.data["sequential"][1]["kernel_regularizer"] == {"type": "l1_l2", "l1": 0.5, "l2": 0.01}


def test_the_object_form_keeps_the_names_location(tmp_path):
    """A later problem with the name (here the plan's: a metric for class ids) still points at it, not at the --set."""
    spec = write(tmp_path, TINY.replace("top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"))
    line = next(n for n, text in enumerate(TINY.splitlines()) if "metrics:" in text)  # 1-based: TINY starts with a newline
    column = TINY.splitlines()[line].index("top_k") + 1
    (problem,) = _problems(spec, ["compile.metrics.1.k=2"])
    assert problem.startswith(f"{spec}:{line}:{column}: metric 'sparse_top_k_categorical_accuracy' needs class ids"), problem


def test_a_misspelled_name_has_no_object_form_and_a_did_you_mean(tmp_path):
    spec = write(tmp_path, TINY.replace("callbacks: [EarlyStopping]", "callbacks: [EarlyStoping]"))
    expected = ("--set fit.callbacks.0.patience=4: fit.callbacks.0 is 'EarlyStoping', a name with no object form {type: ..., ...} "
                "(did you mean 'EarlyStopping'?): cannot set 'patience' inside it")
    assert _problems(spec, ["fit.callbacks.0.patience=4"]) == [expected]


@pytest.mark.parametrize(("override", "where", "name"), [("sequential.1.activation.alpha=0.1", "sequential.1.activation", "softmax"),
                                                   ("sequential.1.kernel_initializer.seed=1", "sequential.1.kernel_initializer", "he_normal")])
def test_a_name_without_an_object_form_says_so_at_the_set(tmp_path, override, where, name):
    spec = write(tmp_path, TINY.replace("activation: softmax", "activation: softmax, kernel_initializer: he_normal"))
    field = override.split("=")[0].rsplit(".", 1)[1]
    expected = f"--set {override}: {where} is '{name}', a name with no object form {{type: ..., ...}}: cannot set '{field}' inside it"
    assert _problems(spec, [override]) == [expected]


def test_a_name_only_field_written_as_a_mapping_says_so(tmp_path):
    (problem,) = _problems(write(tmp_path, TINY.replace("activation: softmax", "activation: {type: softmax, axis: 1}")), [])
    assert problem.startswith(f"{tmp_path / 'spec.yaml'}:4:") and "takes a name only, it has no object form" in problem


def test_every_name_with_an_object_form_has_one_form():
    """Names two kinds share (mse: a loss and a metric) mean the same mapping in both; Keras's class names work too."""
    from modelspec.object_forms import object_forms

    forms = object_forms()
    assert forms["mse"] == {"type": "mse"} and forms["Adam"] == {"type": "Adam"} and forms["EarlyStopping"] == {"type": "EarlyStopping"}
    assert forms["l1_l2"] == {"type": "l1_l2", "l1": 0.01, "l2": 0.01} and "relu" not in forms and "glorot_uniform" not in forms


def test_a_field_inside_a_number_is_refused_at_the_set(tmp_path):
    (problem,) = _problems(write(tmp_path, TINY), ["fit.epochs.x=1"])
    assert problem == "--set fit.epochs.x=1: fit.epochs is 1, a value, not a mapping or list: cannot set 'x' inside it"


def _readme_sweep() -> str:
    """The README's console block with the sweep loop, as shell commands (its `$ ` prompts removed)."""
    blocks = re.findall(r"```console\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)
    sweep = [block for block in blocks if "for lr in" in block]
    assert len(sweep) == 1, "README.md has no console block with the `for lr in ...` sweep loop"
    return "\n".join(line.removeprefix("$ ") for line in sweep[0].splitlines() if line.startswith("$ "))


def test_the_readme_sweep_runs_as_written_on_the_starter_spec(tmp_path):
    script = _readme_sweep()
    assert "modelspec init -o spec.yaml" in script  # the starter spec, as `modelspec init` writes it
    rates = shlex.split(re.search(r"for lr in (.*?); do", script).group(1))
    done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == len(rates)
    for run, rate in zip(runs, rates):
        info = json.loads((run / "run.json").read_text())
        assert info["status"] == "finished"
        assert f"compile.optimizer.learning_rate={rate}" in info["overrides"]
        assert f"learning_rate: {rate}" in (run / "spec.yaml").read_text()
        assert run.name in done.stdout and f"compile.optimizer.learning_rate={rate}" in done.stdout  # `modelspec runs` lists it


# 2. --set on every command that checks a spec --------------------------------------------------


def _invoke(*args: str):
    return CliRunner().invoke(main, [str(arg) for arg in args], terminal_width=200)


def test_validate_takes_set(tmp_path):
    spec = write(tmp_path, TINY)
    assert _invoke("validate", spec, "--set", "fit.epochs=2").exit_code == 0
    refused = _invoke("validate", spec, "--set", "fit.epoch=2")
    assert refused.exit_code == 2 and "--set fit.epoch=2: unknown key 'epoch'" in refused.stderr


def test_summary_takes_set(tmp_path):
    result = _invoke("summary", write(tmp_path, TINY), "--set", "sequential.1.units=7", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total_params"] == 4 * 7 + 7


def test_graph_takes_set(tmp_path):
    result = _invoke("graph", write(tmp_path, TINY), "--set", "sequential.1.units=7")
    assert result.exit_code == 0, result.output
    assert "(None, 7)" in result.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(spec, weights, inputs.npz) of TINY trained one epoch."""
    folder = tmp_path_factory.mktemp("trained")
    spec = write(folder, TINY)
    result = _invoke("train", spec, "--run-dir", folder / "run", "--quiet")
    assert result.exit_code == 0, result.output
    np.savez(folder / "inputs.npz", x=np.random.default_rng(0).random((5, 4), dtype=np.float32))
    return spec, folder / "run" / "model.safetensors", folder / "inputs.npz"


def test_evaluate_takes_set(trained):
    spec, weights, _ = trained
    result = _invoke("evaluate", spec, "--weights", weights, "--set", "data.test={synthetic: {samples: 8}}", "--set", "compile.metrics=[mae]", "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"loss", "mae"}


def test_predict_takes_set(trained, tmp_path):
    spec, weights, inputs = trained
    result = _invoke("predict", spec, "--weights", weights, "--data", inputs, "--output", tmp_path / "out.npz", "--set", "sequential.1.activation=linear")
    assert result.exit_code == 0, result.output
    assert not np.allclose(np.load(tmp_path / "out.npz")["y"].sum(axis=1), 1.0)  # linear outputs: not probabilities


def test_export_takes_set(trained, tmp_path):
    spec, weights, _ = trained
    result = _invoke("export", spec, "--weights", weights, "-o", tmp_path / "model.py", "--set", "sequential.1.units=5")
    assert result.exit_code == 2 and "(5, 4)" in result.output  # the 3-unit weights do not fit the 5-unit kernel
    assert not (tmp_path / "model.py").exists()


# 3. validate of several files ------------------------------------------------------------------


def test_validate_lists_each_files_result_in_argument_order(tmp_path):
    first, bad, last = (write(tmp_path, text, name) for text, name in [
        (TINY, "a.yaml"), (TINY.replace("units: 3", "units: three"), "b.yaml"), (template_text("mlp"), "c.yaml")])
    done = subprocess.run([sys.executable, "-m", "modelspec_cli", "validate", first.name, bad.name, last.name], cwd=tmp_path, env=_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert lines[0] == "a.yaml: ok" and lines[-1] == "c.yaml: ok", lines
    assert len(lines) == 3 and re.match(r"b\.yaml:4:\d+: .*units.*'three'", lines[1]), lines


def test_validate_of_valid_files_says_ok_for_each(tmp_path):
    specs = [write(tmp_path, TINY, name) for name in ("a.yaml", "b.yaml")]
    result = _invoke("validate", *specs)
    assert result.exit_code == 0 and result.stdout.splitlines() == [f"{spec}: ok" for spec in specs]


# 4. a problem an override causes is located at the --set ---------------------------------------


@pytest.mark.parametrize(("override", "expected"), [
    ("fit.epoch=3", "--set fit.epoch=3: unknown key 'epoch' (did you mean 'epochs'?)"),
    ("fit.epochs=abc", "--set fit.epochs=abc: fit.epochs: expected an integer, received 'abc' (a string)"),
    ("fitt.epochs=3", "--set fitt.epochs=3: unknown key 'fitt' (did you mean 'fit'?)"),
    ("compile.optimizer={type: adam, learning_rat: 0.1}", "--set compile.optimizer={type: adam, learning_rat: 0.1}: unknown key 'learning_rat' for adam (did you mean 'learning_rate'?)"),
    ("compile.optimizer.learning_rat=0.1", "--set compile.optimizer.learning_rat=0.1: unknown key 'learning_rat' for adam (did you mean 'learning_rate'?)"),
], ids=["unknown key", "wrong value", "unknown section", "inside a mapping value", "inside a name"])
def test_an_override_problem_is_located_at_its_set(tmp_path, override, expected):
    assert _problems(write(tmp_path, TINY), [override]) == [expected]


def test_a_replaced_mapping_loses_its_old_locations(tmp_path):
    """The base file's momentum line says nothing about the mapping an override put in its place."""
    spec = write(tmp_path, TINY.replace("optimizer: adam", "optimizer: {type: sgd, momentum: 0.9}"))
    override = "compile.optimizer={type: adam, momentum: 0.9}"
    expected = (f"--set {override}: unknown key 'momentum' for adam (expected one of 'amsgrad', 'beta_1', 'beta_2', 'clipnorm', "
                "'clipvalue', 'epsilon', 'global_clipnorm', 'learning_rate', 'type', 'weight_decay')")
    assert _problems(spec, [override]) == [expected]


def test_problems_of_two_overrides_are_both_reported_and_the_files_own_at_its_line(tmp_path):
    spec = write(tmp_path, TINY.replace("units: 3", "units: 0"))
    problems = _problems(spec, ["fit.x=1", "compile.x=1"])
    assert sorted(p.split(":")[0] for p in problems) == sorted([str(spec), "--set fit.x=1", "--set compile.x=1"]), problems
    assert any(p.startswith(f"{spec}:4:") for p in problems), problems
