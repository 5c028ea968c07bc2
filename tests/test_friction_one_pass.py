"""Issue 17: every problem a spec has is reported in one `validate` run (schema, references, shapes,
compile/fit), and one mistake is reported once, not again by every layer downstream of it."""

from __future__ import annotations

from modelspec.checked import check_spec
from modelspec.errors import Problem
from tests.helpers import problems, write


def at(found: list[Problem]) -> set[tuple[int | None, int | None]]:
    return {(p.line, p.column) for p in found}


FIVE_STAGES_FUNCTIONAL = """
name: m
inputs:
  a: {shape: [10]}
  b: {shape: [4]}
layers:
  - {name: hidden, type: Dense, units: 8, activaton: relu, inputs: a}
  - {name: other, type: Dense, units: "4", inputs: b}
  - {name: joined, type: Concatenate, inputs: [hidden, othr]}
  - {name: p, type: Dense, units: 3, inputs: a}
  - {name: q, type: Dense, units: 5, inputs: a}
  - {name: s, type: Add, inputs: [p, q]}
outputs: [s, joined]
compile: {optimizer: adam, loss: {s: mse, joind: mse}}
fit: {epochs: -1}
"""


def test_functional_spec_reports_every_stage_in_one_run(tmp_path):
    found = problems(tmp_path, FIVE_STAGES_FUNCTIONAL)
    assert at(found) == {(6, 43), (7, 39), (8, 47), (11, 5), (13, 43), (14, 15)}, [str(p) for p in found]
    text = "\n".join(str(p) for p in found)
    assert "unknown key 'activaton' for Dense (did you mean 'activation'?)" in text  # schema, layer 1
    assert "layers[1].units: expected an integer, received '4'" in text  # schema, layer 2
    assert "'othr' names no input or layer (did you mean 'other'?)" in text  # reference (to a layer that failed validation)
    assert any("layer 's' (Add)" in p.message and "(None, 3)" in p.message and "(None, 5)" in p.message for p in found)  # shapes of two valid layers
    assert "compile.loss: 'joind' is not an output of the model (did you mean 'joined'?)" in text  # plan
    assert "fit.epochs" in text  # schema, fit section
    assert [(p.line, p.column) for p in found] == sorted((p.line, p.column) for p in found)


def test_sequential_spec_reports_every_stage_in_one_run(tmp_path):
    text = """
    name: s
    sequential:
      - {type: Dense, units: 8, input_dim: 4}
      - {type: Reshape, target_shape: [3, 3]}
      - {type: Dense, units: 8, activaton: relu}
      - {type: Dense, units: "4"}
    compile: {optimizer: adam, loss: msee}
    fit: {epochs: -1}
    """
    found = problems(tmp_path, text)
    assert at(found) == {(4, 5), (5, 29), (6, 26), (7, 34), (8, 15)}, [str(p) for p in found]
    assert any("(Reshape)" in p.message and p.line == 4 for p in found)


def test_the_plan_is_checked_when_only_layers_fail(tmp_path):
    text = """
    name: s
    sequential:
      - {type: Dense, units: 8, input_dim: 4}
      - {type: Dense, units: 0}
    compile: {loss: {out: mse}, loss_weights: [1.0, 2.0]}
    """
    found = problems(tmp_path, text)
    assert at(found) == {(4, 26), (5, 18), (5, 43)}, [str(p) for p in found]
    assert any("'out' is not an output of the model (outputs: 'y')" in p.message for p in found)


def test_one_bad_layer_upstream_is_one_problem_functional(tmp_path):
    text = """
    name: m
    inputs: {a: {shape: [10]}}
    layers:
      - {name: h, type: Dense, units: -8, inputs: a}
      - {type: Dense, units: 4, inputs: a}
      - {name: wide, type: Dense, units: 6, inputs: h}
      - {name: joined, type: Concatenate, inputs: [wide, dense]}
      - {name: summed, type: Add, inputs: [h, joined]}
      - {name: out, type: Dense, units: 1, inputs: summed}
    outputs: out
    compile: {loss: {out: mse}}
    fit: {class_weight: {0: 1.0, 1: 2.0}}
    """
    found = problems(tmp_path, text)
    assert len(found) == 1 and (found[0].line, found[0].column) == (4, 35), [str(p) for p in found]


def test_one_bad_layer_upstream_is_one_problem_sequential(tmp_path):
    text = """
    name: s
    sequential:
      - {type: Conv2D, filters: 4, kernel_size: 3, input_shape: [8, 8, 1], padding: sam}
      - {type: Flatten}
      - {type: Dense, units: 3}
      - {type: Reshape, target_shape: [3, 1]}
    compile: {loss: mse}
    """
    found = problems(tmp_path, text)
    assert len(found) == 1 and found[0].line == 3 and "'sam'" in found[0].message, [str(p) for p in found]


def test_a_bad_first_layer_leaves_the_input_shape_unknown(tmp_path):
    found = problems(tmp_path, "name: s\nsequential:\n  - {type: Dense, units: 0, input_dim: 4}\n  - {type: Reshape, target_shape: [7]}\n")
    assert at(found) == {(3, 26)}, [str(p) for p in found]


def test_a_bad_input_declaration_is_one_problem(tmp_path):
    text = """
    name: m
    inputs:
      a: {shape: [0]}
      b: {shape: [4]}
    layers:
      - {name: h, type: Dense, units: 4, inputs: a}
      - {name: summed, type: Add, inputs: [h, b]}
      - {name: wrong, type: Add, inputs: [b, c]}
    outputs: [summed, wrong]
    """
    found = problems(tmp_path, text)
    assert at(found) == {(3, 15), (8, 38)}, [str(p) for p in found]
    assert "'c' names no input or layer" in found[1].message


def test_an_unknown_anonymous_layer_hides_no_reference_but_reports_none(tmp_path):
    text = """
    name: m
    inputs: {a: {shape: [10]}}
    layers:
      - {type: Dence, units: 4, inputs: a}
      - {name: out, type: Dense, units: 1, inputs: dense}
    outputs: out
    """
    found = problems(tmp_path, text)
    assert len(found) == 1 and "unknown layer type 'Dence'" in found[0].message, [str(p) for p in found]


def test_nested_models_report_their_problems_with_the_rest(tmp_path):
    write(tmp_path, "name: sub\nsequential:\n  - {type: Dense, units: 4, input_dim: 3, activation: rleu}\n  - {type: Reshape, target_shape: [5]}\n", "sub.yaml")
    write(tmp_path, "name: sub2\nsequential:\n  - {type: Dense, units: 4, input_dim: 3}\n  - {type: Reshape, target_shape: [5]}\n  - {type: Dense, units: 0}\n", "sub2.yaml")
    text = """
    name: m
    models:
      enc:
        sequential:
          - {type: Dense, units: 4, input_dim: 3}
          - {type: Dense, units: 0}
      dec:
        inputs: {z: {shape: [4]}}
        layers:
          - {name: up, type: Dense, units: 3, inputs: zz}
        outputs: up
    inputs: {a: {shape: [3]}}
    layers:
      - {name: e, type: Model, model: enc, inputs: a}
      - {name: d, type: Model, model: dec, inputs: e}
      - {name: f, type: Model, model: {spec: sub.yaml}, inputs: a}
      - {name: g, type: Model, model: {spec: sub2.yaml}, inputs: a}
      - {name: out, type: Concatenate, inputs: [d, f, g, e]}
    outputs: out
    fit: {epochs: 0}
    """
    found = problems(tmp_path, text)
    sub, sub2 = str(tmp_path / "sub.yaml"), str(tmp_path / "sub2.yaml")
    main = str(tmp_path / "spec.yaml")
    assert {(p.file, p.line) for p in found} == {(main, 6), (main, 10), (main, 20), (sub, 3), (sub2, 4), (sub2, 5)}, [str(p) for p in found]
    assert len(found) == 6


def test_duplicates_are_dropped_and_a_valid_spec_is_checked(tmp_path):
    found = problems(tmp_path, "name: s\nsequential:\n  - {type: Dense, units: 0, input_dim: 4}\n")
    assert len(found) == len({(p.line, p.column, p.message) for p in found}) == 1
    checked = check_spec(write(tmp_path, "name: s\nsequential:\n  - {type: Dense, units: 2, input_dim: 4}\n", "ok.yaml"))
    assert checked.graph.output_shapes == {"y": (None, 2)}


def test_a_failed_reuse_still_makes_its_node(tmp_path):
    text = """
    name: m
    inputs: {a: {shape: [3]}}
    layers:
      - {name: s, type: Dense, units: 2, inputs: a}
      - {reuse: s, inputs: 5}
      - {type: Add, inputs: [s@0, s@1]}
    outputs: add
    """
    found = problems(tmp_path, text)
    assert len(found) == 1 and found[0].line == 5, [str(p) for p in found]


def test_structure_errors_come_with_the_rest_unless_an_unknown_key_explains_them(tmp_path):
    both = problems(tmp_path, "name: m\nsequential: [{type: Dense, units: 2, input_dim: 3}]\nlayers: []\nfit: {epochs: -1}\n")
    assert at(both) == {(1, 1), (4, 15)} and "not both" in both[0].message, [str(p) for p in both]
    misspelled = problems(tmp_path, "name: m\nsequental: [{type: Dense, units: 2, input_dim: 3}]\nfit: {epochs: -1}\n")
    assert at(misspelled) == {(2, 1), (3, 15)}, [str(p) for p in misspelled]
