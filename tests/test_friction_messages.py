"""Issue 17, noise and wrong hints: one line per mistake, each with the hint the user needs.

- a value checked against a union (a name, a list or a mapping) gets the error of the form it was written in;
- a merge layer's shape error says each input's name and shape once;
- channels-first images are told to transpose (with the axes), not to reshape;
- a layer type (loss, metric, optimizer, callback) that Keras has and modelspec lacks is said to be so.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from modelspec.catalog import find_layer
from modelspec.data.arrays import ArraySpec
from modelspec.data.checks import check_arrays
from modelspec.errors import DataError, UsageError, did_you_mean
from tests.helpers import ROOT, problems

SPEC = """
name: friction
inputs:
  a: {{shape: [4]}}
layers:
  - {{name: d, type: Dense, units: 2, inputs: a{layer}}}
outputs: d
compile:
  optimizer: {optimizer}
  loss: {loss}
{extra}
"""


def only_line(tmp_path, *, layer: str = "", optimizer: str = "adam", loss: str = "mse", extra: str = "") -> str:
    """The one problem of the spec, as `validate` prints it (FILE:LINE:COL: message, the file left out)."""
    found = problems(tmp_path, SPEC.format(layer=layer, optimizer=optimizer, loss=loss, extra=extra))
    assert len(found) == 1, [str(p) for p in found]
    return str(found[0]).split(":", 1)[1]


# ----- 1: a union reports the member the value was written as --------------------------------
@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"loss": "mean_sqared_error"}, "9:9: compile.loss: unknown loss 'mean_sqared_error' (did you mean 'mean_squared_error'?); expected one of: "),
        ({"loss": "[mean_sqared_error]"}, "9:10: compile.loss[0]: unknown loss 'mean_sqared_error' (did you mean 'mean_squared_error'?); expected one of: "),
        ({"loss": "{d: mean_sqared_error}"}, "9:13: compile.loss.d: unknown loss 'mean_sqared_error' (did you mean 'mean_squared_error'?); expected one of: "),
        ({"loss": "{type: huber, delt: 2}"}, "9:23: unknown key 'delt' for huber (did you mean 'delta'?)"),
        ({"loss": "3"}, "9:9: compile.loss: expected a loss name or a mapping with a 'type' key, a list or a mapping, received 3 (an integer)"),
        ({"extra": "  metrics: [acuracy]"}, "10:13: compile.metrics[0]: unknown metric 'acuracy' (did you mean 'accuracy'?); expected one of: "),
        ({"extra": "  metrics: {d: acuracy}"}, "10:16: compile.metrics.d: unknown metric 'acuracy' (did you mean 'accuracy'?); expected one of: "),
        ({"extra": "  metrics: {d: [acuracy]}"}, "10:17: compile.metrics.d[0]: unknown metric 'acuracy' (did you mean 'accuracy'?); expected one of: "),
        ({"extra": "  metrics: accuracy"}, "10:12: compile.metrics: expected a list or a mapping, received 'accuracy' (a string)"),
        ({"optimizer": "3"}, "8:14: compile.optimizer: expected an optimizer name (adam, rmsprop, sgd, ...) or a mapping with a 'type', received 3"),
        ({"optimizer": "adma"}, "8:14: compile.optimizer: unknown optimizer 'adma' (did you mean 'adam'?): expected one of 'adadelta', 'adagrad', 'adam', 'adamax', 'adamw', 'nadam', 'rmsprop', 'sgd' (or its Keras class name, e.g. 'Adam')"),
        ({"extra": "  loss_weights: 2"}, "10:17: compile.loss_weights: expected a list or a mapping, received 2 (an integer)"),
        ({"extra": "  loss_weights: [two]"}, "10:18: compile.loss_weights[0]: expected a number, received 'two' (a string)"),
        ({"extra": "  loss_weights: {d: two}"}, "10:21: compile.loss_weights.d: expected a number, received 'two' (a string)"),
        ({"extra": "fit: {shuffle: bach}"}, "10:16: fit.shuffle: received 'bach' (a string), expected one of 'batch' (did you mean 'batch'?)"),
        ({"extra": "fit: {shuffle: 3}"}, "10:16: fit.shuffle: expected true or false or 'batch', received 3 (an integer)"),
        ({"layer": ", kernel_regularizer: l3"}, "5:69: layers[0].kernel_regularizer: unknown type 'l3' (expected one of 'l1', 'l1_l2', 'l2')"),
        ({"layer": ", activation: rellu"}, "5:61: layers[0].activation: received 'rellu' (a string), expected one of "),
        ({"extra": "data: {train: 3}"}, "10:15: data.train: expected an .npz path, {x: ..., y: ...}, {dataset: digits}"),
        ({"extra": "data: {train: {x: 3, y: a.npy}}"}, "10:19: data.train.x: expected a file path or a mapping of names to file paths, received 3 (an integer)"),
    ],
)
def test_a_union_reports_one_line_for_the_form_written(tmp_path, fields: dict, expected: str) -> None:
    line = only_line(tmp_path, **fields)
    assert line.startswith(expected), line
    assert line.count("received") <= 1, line


def test_an_unknown_key_of_a_reuse_entry_is_named_not_reuse(tmp_path) -> None:
    """`reuse` is both the entry's union member and its key: the problem is the unknown key, not 'reuse'."""
    spec = SPEC.format(layer="}\n  - {reuse: d, inputs: a, extra: 1", optimizer="adam", loss="mse", extra="").replace("outputs: d", "outputs: d@1")
    assert [str(p).split(":", 1)[1] for p in problems(tmp_path, spec)] == ["6:27: unknown key 'extra' (expected one of 'inputs', 'reuse')"]


def test_a_misspelled_name_prefers_swapped_letters() -> None:
    assert did_you_mean("adma", ["adamax", "adam", "nadam"]) == " (did you mean 'adam'?)"
    assert did_you_mean("acuracy", ["accuracy", "auc"]) == " (did you mean 'accuracy'?)"


# ----- 2: merge layers say each input's name and shape once ----------------------------------
MERGE = """
name: merge
inputs:
  left: {{shape: {left}}}
  right: {{shape: {right}}}
layers:
  - {{name: merged, {layer}, inputs: [left, right]}}
outputs: merged
"""


@pytest.mark.parametrize(
    "layer, left, right, expected",
    [
        ("type: Add", [4], [5], "layer 'merged' (Add) on left (None, 4) and right (None, 5): sizes 4 and 5 differ on the last axis; "
         "expected equal sizes, or 1 (the shapes are aligned on the right)"),
        ("type: Multiply", [3, 4], [2, 4], "layer 'merged' (Multiply) on left (None, 3, 4) and right (None, 2, 4): sizes 3 and 2 differ on axis 1; "
         "expected equal sizes, or 1 (the shapes are aligned on the right)"),
        ("type: Subtract", [4], [5], "layer 'merged' (Subtract) on left (None, 4) and right (None, 5): sizes 4 and 5 differ"),
        ("type: Average", [4], [5], "layer 'merged' (Average) on left (None, 4) and right (None, 5): sizes 4 and 5 differ"),
        ("type: Maximum", [4], [5], "layer 'merged' (Maximum) on left (None, 4) and right (None, 5): sizes 4 and 5 differ"),
        ("type: Minimum", [4], [5], "layer 'merged' (Minimum) on left (None, 4) and right (None, 5): sizes 4 and 5 differ"),
        ("type: Concatenate", [3, 4], [5, 6], "layer 'merged' (Concatenate) on left (None, 3, 4) and right (None, 5, 6): sizes 3 and 5 differ on axis 1; "
         "expected equal sizes except on the concatenation axis 2"),
        ("type: Concatenate", [4], [3, 4], "layer 'merged' (Concatenate) on left (None, 4) and right (None, 3, 4): the ranks differ (2 and 3); "
         "expected inputs of the same rank"),
        ("type: Dot, axes: 1", [3], [4], "layer 'merged' (Dot) on left (None, 3) and right (None, 4): axes=1 pairs size 3 (axis 1 of the first input) "
         "with size 4 (axis 1 of the second); expected equal sizes"),
    ],
)
def test_a_merge_shape_error_names_each_input_once(tmp_path, layer: str, left: list, right: list, expected: str) -> None:
    found = problems(tmp_path, MERGE.format(layer=layer, left=left, right=right))
    assert len(found) == 1, [str(p) for p in found]
    message = found[0].message
    assert message.startswith(expected), message
    kind = layer.split(",")[0].removeprefix("type: ")
    assert message.count(kind) == 1 and message.count("(None, ") == 2, message


# ----- 3: channels-first images: transpose, with the axes -------------------------------------
def shape_message(expected: tuple, received: tuple) -> str:
    spec = [ArraySpec("image", expected, "float32", "input")]
    with pytest.raises(DataError) as raised:
        check_arrays({"image": np.zeros(received, np.float32)}, spec, "data.train")
    return str(raised.value)


@pytest.mark.parametrize(
    "expected, received, hint",
    [
        ((None, 16, 16, 3), (2, 3, 16, 16), "(it looks channels-first; the model takes channels last, as Keras does: x.transpose(0, 2, 3, 1) in numpy; a reshape would scramble the values)"),
        ((None, 100, 8), (2, 8, 100), "(it looks channels-first; the model takes channels last, as Keras does: x.transpose(0, 2, 1) in numpy; a reshape would scramble the values)"),
        ((None, 4, 5, 3), (2, 5, 4, 3), "(the same sizes in another order: x.transpose(0, 2, 1, 3) in numpy; a reshape would scramble the values)"),
        ((None, 16, 16, 3), (2, 768), "(same number of values per sample: reshape it to (None, 16, 16, 3))"),
        ((None, 16, 16, 1), (2, 16, 16), "(same number of values per sample: reshape it to (None, 16, 16, 1))"),
        ((None, 16, 16, 3), (2, 3, 256), "(same number of values per sample: if they are stored in that order, reshape it to (None, 16, 16, 3))"),
    ],
)
def test_the_shape_hint_transposes_permuted_axes(expected: tuple, received: tuple, hint: str) -> None:
    message = shape_message(expected, received)
    assert message.endswith(hint), message


# ----- 4: names Keras has and modelspec lacks --------------------------------------------------
LAYER = """
name: unknown
inputs:
  a: {{shape: [4]}}
layers:
  - {{name: n, type: {type}, inputs: a}}
outputs: n
"""


@pytest.mark.parametrize(
    "type_name, expected",
    [
        ("Normalization", "layers[0]: unknown layer type 'Normalization': Keras has this layer but modelspec does not (yet); `modelspec layers` lists the "),
        ("LSTMCell", "layers[0]: unknown layer type 'LSTMCell': Keras has this layer but modelspec does not (yet); modelspec has 'LSTM'; `modelspec layers` lists the "),
        ("MaxPool2D", "layers[0]: unknown layer type 'MaxPool2D' (did you mean 'MaxPooling2D'?)"),
        ("Convolution2D", "layers[0]: unknown layer type 'Convolution2D' (did you mean 'Conv2D'?)"),
        ("Dence", "layers[0]: unknown layer type 'Dence' (did you mean 'Dense'?)"),
    ],
)
def test_an_unknown_layer_type_says_whether_keras_has_it(tmp_path, type_name: str, expected: str) -> None:
    found = problems(tmp_path, LAYER.format(type=type_name))
    assert len(found) == 1 and found[0].message.startswith(expected), [str(p) for p in found]


def test_the_layer_catalog_says_whether_keras_has_it() -> None:
    with pytest.raises(UsageError, match=r"unknown layer type 'Normalization': Keras has this layer but modelspec does not \(yet\)"):
        find_layer("Normalization")
    with pytest.raises(UsageError, match=r"'AvgPool2D' \(did you mean 'AveragePooling2D'\?\)"):
        find_layer("AvgPool2D")


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"loss": "dice"}, "compile.loss: unknown loss 'dice': Keras has this loss but modelspec does not (yet); expected one of: "),
        ({"loss": "MeanSquaredError"}, "compile.loss: unknown loss 'MeanSquaredError' (did you mean 'mean_squared_error'?); expected one of: "),
        ({"extra": "  metrics: [f1_score]"}, "compile.metrics[0]: unknown metric 'f1_score': Keras has this metric but modelspec does not (yet); expected one of: "),
        ({"optimizer": "ftrl"}, "compile.optimizer: unknown optimizer 'ftrl': Keras has this optimizer but modelspec does not (yet); expected one of: "),
        ({"optimizer": "{type: Lion, learning_rate: 0.1}"}, "compile.optimizer: unknown optimizer 'Lion': Keras has this optimizer but modelspec does not (yet)"),
        ({"extra": "fit: {callbacks: [BackupAndRestore]}"}, "fit.callbacks[0]: unknown callback 'BackupAndRestore': Keras has this callback but modelspec does not (yet); expected one of "),
        ({"extra": "fit: {callbacks: [EarlyStoping]}"}, "fit.callbacks[0]: unknown callback 'EarlyStoping' (did you mean 'EarlyStopping'?)"),
    ],
)
def test_an_unknown_name_says_whether_keras_has_it(tmp_path, fields: dict, expected: str) -> None:
    line = only_line(tmp_path, **fields)
    assert line.split(": ", 1)[1].startswith(expected), line


def test_the_keras_names_are_the_installed_keras():
    """modelspec/keras_names.py is what docs/make_keras_names.py writes from the installed Keras."""
    if importlib.util.find_spec("keras") is None:
        pytest.skip("Keras is not installed")
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    code = "import sys; sys.path.insert(0, 'docs'); import make_keras_names, keras; print(make_keras_names.source(keras), end='')"
    generated = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    assert generated == (ROOT / "modelspec" / "keras_names.py").read_text(), "run: KERAS_BACKEND=torch python docs/make_keras_names.py"
