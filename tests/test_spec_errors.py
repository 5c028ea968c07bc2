"""Every class of spec mistake is reported at its YAML line and column, all of them at once."""

from __future__ import annotations

import pytest

from modelspec.errors import SpecError
from modelspec.source import load_text
from tests.helpers import only_problem, problems

FUNCTIONAL_HEAD = """
name: m
inputs:
  a: {shape: [10]}
layers:
"""


def test_unknown_layer_type_points_at_type_with_suggestion(tmp_path):
    p = only_problem(tmp_path, FUNCTIONAL_HEAD + "  - {type: Dence, units: 4, inputs: a}\noutputs: dense\n")
    assert (p.line, p.column) == (5, 12)
    assert "unknown layer type 'Dence'" in p.message and "did you mean 'Dense'" in p.message


def test_misspelled_key_points_at_key_with_suggestion(tmp_path):
    found = problems(tmp_path, FUNCTIONAL_HEAD + "  - {type: Dense, unitz: 4, inputs: a}\noutputs: dense\n")
    unknown = [p for p in found if "unknown key" in p.message]
    assert len(unknown) == 1 and (unknown[0].line, unknown[0].column) == (5, 19)
    assert "did you mean 'units'" in unknown[0].message
    assert any("missing required key 'units'" in p.message for p in found)


def test_unknown_top_level_key(tmp_path):
    found = problems(tmp_path, "name: m\nsequental: []\n")
    assert any("unknown key 'sequental'" in p.message and "did you mean 'sequential'" in p.message and p.line == 2 for p in found)


@pytest.mark.parametrize(
    "value, expected",
    [("true", "expected an integer, received true"), ('"8"', "expected an integer, received '8'"), ("0", "greater than 0"), ("1e-3", "expected an integer, received 0.001")],
)
def test_bad_values_are_strict(tmp_path, value, expected):
    p = only_problem(tmp_path, FUNCTIONAL_HEAD + f"  - {{type: Dense, units: {value}, inputs: a}}\noutputs: dense\n")
    assert expected in p.message and p.line == 5


def test_bad_activation_lists_choices(tmp_path):
    p = only_problem(tmp_path, FUNCTIONAL_HEAD + "  - {type: Dense, units: 4, activation: relux, inputs: a}\noutputs: dense\n")
    assert "'relux'" in p.message and "did you mean 'relu'" in p.message and "'sigmoid'" in p.message


def test_dangling_reference(tmp_path):
    p = only_problem(tmp_path, FUNCTIONAL_HEAD + "  - {type: Dense, units: 4, inputs: b}\noutputs: dense\n")
    assert "'b' names no input or layer" in p.message
    assert p.line == 5


def test_dangling_reference_suggests(tmp_path):
    p = only_problem(tmp_path, FUNCTIONAL_HEAD + "  - {name: hidden, type: Dense, units: 4, inputs: a}\n  - {type: Dense, units: 1, inputs: hiden}\noutputs: dense\n")
    assert "'hiden' names no input or layer (did you mean 'hidden'?)" in p.message and p.line == 6


def test_cycle(tmp_path):
    text = FUNCTIONAL_HEAD + (
        "  - {name: x, type: Add, inputs: [a, z]}\n"
        "  - {name: y, type: Dense, units: 10, inputs: x}\n"
        "  - {name: z, type: Dense, units: 10, inputs: y}\n"
        "outputs: z\n"
    )
    p = only_problem(tmp_path, text)
    assert "cycle" in p.message and all(f"{n}@0" in p.message for n in "xyz")


def test_self_reference_is_a_cycle(tmp_path):
    p = only_problem(tmp_path, FUNCTIONAL_HEAD + "  - {name: d, type: Dense, units: 10, inputs: d}\noutputs: d\n")
    assert "cycle: d@0 -> d@0" in p.message and p.line == 5


def test_ambiguous_shared_layer_reference(tmp_path):
    text = """
    name: m
    inputs:
      a: {shape: [10]}
      b: {shape: [10]}
    layers:
      - {name: shared, type: Dense, units: 4, inputs: a}
      - {reuse: shared, inputs: b}
      - {name: out, type: Dense, units: 1, inputs: shared}
    outputs: out
    """
    found = problems(tmp_path, text)
    ambiguous = [p for p in found if "multiple inbound nodes" in p.message]
    assert len(ambiguous) == 1 and ambiguous[0].line == 8
    assert "ill-defined" in ambiguous[0].message and "shared@0, shared@1" in ambiguous[0].message


def test_node_index_out_of_range(tmp_path):
    p = only_problem(tmp_path, FUNCTIONAL_HEAD + "  - {name: d, type: Dense, units: 4, inputs: a}\n  - {type: Dense, units: 1, inputs: d@1}\noutputs: dense\n")
    assert "layer 'd' has 1 node(s): d@0" in p.message


def test_shape_mismatch_names_both_shapes_and_layer(tmp_path):
    text = """
    name: m
    inputs:
      a: {shape: [10]}
      b: {shape: [4, 4]}
    layers:
      - {name: summed, type: Add, inputs: [a, b]}
    outputs: summed
    """
    p = only_problem(tmp_path, text)
    assert "summed" in p.message and "Add" in p.message and "(None, 10)" in p.message and "(None, 4, 4)" in p.message
    assert p.line == 6


def test_missing_input_shape_on_sequential(tmp_path):
    p = only_problem(tmp_path, "name: m\nsequential:\n  - {type: Dense, units: 4}\n")
    assert "must declare the input shape" in p.message and "input_dim" in p.message and p.line == 3


def test_input_shape_on_later_layer(tmp_path):
    p = only_problem(tmp_path, "name: m\nsequential:\n  - {type: Dense, units: 4, input_dim: 3}\n  - {type: Dense, units: 4, input_dim: 4}\n")
    assert "'input_dim' is only allowed on the first layer" in p.message and (p.line, p.column) == (4, 29)


def test_duplicate_names_and_torch_attribute_names(tmp_path):
    found = problems(tmp_path, FUNCTIONAL_HEAD + "  - {name: d, type: Dense, units: 4, inputs: a}\n  - {name: d, type: Dense, units: 4}\n  - {name: training, type: Dense, units: 4}\noutputs: training\n")
    assert any("'d' is used 2 times" in p.message and p.line == 6 for p in found)
    assert not any("'training'" in p.message for p in found)  # any identifier is a layer name (issue 17)


def test_invalid_names(tmp_path):
    p = only_problem(tmp_path, FUNCTIONAL_HEAD + "  - {name: ../etc/passwd, type: Dense, units: 4, inputs: a}\noutputs: a\n")
    assert "not a valid name" in p.message


def test_unused_input_and_unconnected_layer(tmp_path):
    text = """
    name: m
    inputs:
      a: {shape: [10]}
      b: {shape: [10]}
    layers:
      - {name: used, type: Dense, units: 4, inputs: a}
      - {name: dangling, type: Dense, units: 4, inputs: a}
    outputs: used
    """
    found = problems(tmp_path, text)
    assert any("input 'b' is not used" in p.message and p.line == 4 for p in found)
    assert any("dangling@0 (Dense) does not lead to any output" in p.message and p.line == 7 for p in found)


def test_shared_layer_with_incompatible_weights(tmp_path):
    text = """
    name: m
    inputs:
      a: {shape: [10]}
      b: {shape: [8]}
    layers:
      - {name: shared, type: Dense, units: 4, inputs: a}
      - {reuse: shared, inputs: b}
      - {type: Concatenate, inputs: [shared@0, shared@1]}
    outputs: concatenate
    """
    p = only_problem(tmp_path, text)
    assert "shared" in p.message and "(None, 8)" in p.message and "(None, 10)" in p.message and p.line == 7


def test_all_problems_are_reported_together(tmp_path):
    text = """
    name: m
    sequential:
      - {type: Dense, units: 0, input_dim: 3}
      - {type: Dropout, rate: 2}
      - {type: Dence, units: 3}
    fit: {epochs: -1}
    """
    found = problems(tmp_path, text)
    assert [p.line for p in found] == [3, 4, 5, 6]


def test_structure_errors(tmp_path):
    assert "either 'sequential' or" in only_problem(tmp_path, "name: m\nsequential: []\nlayers: []\n").message
    assert "needs 'sequential" in only_problem(tmp_path, "name: m\ninputs: {a: {shape: [1]}}\n").message


def test_unknown_model_and_model_cycle(tmp_path):
    text = """
    name: m
    models:
      first:
        inputs: {x: {shape: [4]}}
        layers: [{type: Model, model: second, inputs: x}]
        outputs: second
      second:
        inputs: {x: {shape: [4]}}
        layers: [{type: Model, model: first, inputs: x}]
        outputs: first
    inputs: {a: {shape: [4]}}
    layers:
      - {type: Model, model: frist, inputs: a}
      - {type: Model, model: first, inputs: a}
    outputs: [frist, first]
    """
    found = problems(tmp_path, text)
    assert any("unknown model 'frist' (did you mean 'first'?)" in p.message for p in found)
    assert any("cycle: first -> second -> first" in p.message for p in found)


# ----- YAML itself ------------------------------------------------------------------------------


def test_yaml_traps():
    data = load_text("a: 1e-3\nb: yes\nc: no\nd: on\ne: 2026-01-01\nf: 1.0e-3\ng: .inf\nh: 0x1f\n").data
    assert data == {"a": 0.001, "b": "yes", "c": "no", "d": "on", "e": "2026-01-01", "f": 0.001, "g": float("inf"), "h": 31}


def test_duplicate_key_is_an_error():
    with pytest.raises(SpecError) as caught:
        load_text("name: a\nsequential: []\nname: b\n", "f.yaml")
    (p,) = caught.value.problems
    assert (p.line, p.column) == (3, 1) and "duplicate key 'name' (first given at line 1)" in p.message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("!!python/object/apply:os.system ['echo hacked']\n", "tag"),
        ("a: !!python/name:os.system\n", "tag"),
        ("", "empty"),
        ("a: [1, 2\n", "invalid YAML"),
        ("- 1\n- 2\n", "must be a mapping"),
        ("a: {b: [\n", "invalid YAML"),
    ],
)
def test_hostile_or_broken_yaml(text, expected):
    with pytest.raises(SpecError) as caught:
        load_text(text, "f.yaml")
    assert expected in str(caught.value)


def test_deep_nesting_and_alias_bombs_are_bounded():
    with pytest.raises(SpecError, match="nesting"):
        load_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    with pytest.raises(SpecError, match="expands to more than"):
        load_text(bomb)


def test_non_utf8_file(tmp_path):
    from modelspec.source import load_file

    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: m\n\xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8") as caught:
        load_file(path)
    assert caught.value.problems[0].line == 2


def test_compile_names_unknown_outputs(tmp_path):
    text = """
    name: m
    inputs: {a: {shape: [4]}}
    layers:
      - {name: out_one, type: Dense, units: 1, inputs: a}
      - {name: out_two, type: Dense, units: 1, inputs: a}
    outputs: [out_one, out_two]
    compile:
      loss: {out_one: mse, out_tow: mse}
      loss_weights: [1.0]
    """
    found = problems(tmp_path, text)
    assert any("'out_tow' is not an output" in p.message and "did you mean 'out_two'" in p.message and p.line == 8 for p in found)
    assert any("loss_weights: a list needs one entry per output (2" in p.message for p in found)


def test_compile_values_are_checked(tmp_path):
    found = problems(tmp_path, "name: m\nsequential:\n  - {type: Dense, units: 1, input_dim: 2}\ncompile:\n  optimizer: adamm\n  loss: mse\n  metrics: [acuracy]\n")
    assert any("adamm" in p.message and "adam" in p.message and p.line == 5 for p in found)
    assert any("acuracy" in p.message and "accuracy" in p.message and p.line == 7 for p in found)
