"""`modelspec validate` and `modelspec summary`: exit codes, located messages, tables and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from modelspec_cli.main import main
from tests.helpers import SPECS, write


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_validate_ok_for_every_example():
    result = run("validate", *map(str, sorted(SPECS.glob("*.yaml"))))
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok") == len(list(SPECS.glob("*.yaml")))


def test_validate_reports_every_problem_with_exit_2(tmp_path):
    bad = write(tmp_path, "name: m\nsequential:\n  - {type: Dense, units: 0, input_dim: 3}\n  - {type: Dence}\n")
    other = write(tmp_path, "name: m\nsequential: [}\n", "broken.yaml")
    result = run("validate", str(bad), str(other))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"{bad}:3:") and "greater than 0" in lines[0]
    assert lines[1].startswith(f"{bad}:4:") and "Dence" in lines[1]
    assert lines[2].startswith(f"{other}:2:") and "invalid YAML" in lines[2]
    assert "Traceback" not in result.output


def test_missing_file_is_exit_2(tmp_path):
    result = run("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "no such file" in result.output


def test_messages_print_emoji_codes_as_written(tmp_path):
    """rich would turn ':thumbs_up:' in a quoted value into an emoji; the message must quote what the file says."""
    bad = write(tmp_path, "name: m\nsequential:\n  - {type: ':thumbs_up:', units: 3, input_dim: 3}\n")
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert ":thumbs_up:" in result.output and "\N{THUMBS UP SIGN}" not in result.output


def test_summary_table_shows_keras_columns_and_totals():
    result = CliRunner().invoke(main, ["summary", str(SPECS / "mnist_mlp.yaml")], terminal_width=120)
    assert result.exit_code == 0, result.output
    for text in ("Layer (type)", "Output Shape", "Param #", "dense (Dense)", "(None, 512)", "262,656", "Total params: 669,706 (2.55 MB)", "Trainable params: 669,706", "Non-trainable params: 0 (0 B)"):
        assert text in result.output, text


def test_summary_json_document():
    result = run("summary", str(SPECS / "shared_lstm_tweets.yaml"), "--json")
    document = json.loads(result.output)
    assert set(document) >= {"name", "total_params", "trainable_params", "non_trainable_params", "layers"}
    assert document["total_params"] == 82_305
    shared = next(layer for layer in document["layers"] if layer["name"] == "shared_lstm")
    assert shared["type"] == "LSTM" and shared["params"] == 82_176 and shared["trainable"] is True
    assert shared["nodes"] == [
        {"index": 0, "inputs": ["tweet_a"], "input_shapes": [[None, 280, 256]], "output_shape": [None, 64]},
        {"index": 1, "inputs": ["tweet_b"], "input_shapes": [[None, 280, 256]], "output_shape": [None, 64]},
    ]
    merged = next(layer for layer in document["layers"] if layer["name"] == "merged")
    assert merged["nodes"][0]["inputs"] == ["shared_lstm@0", "shared_lstm@1"]


def test_summary_of_bad_spec_is_exit_2(tmp_path):
    result = run("summary", str(write(tmp_path, "name: m\nsequential:\n  - {type: Dense, units: 3}\n")))
    assert result.exit_code == 2 and "must declare the input shape" in result.output


def test_validate_and_summary_never_import_torch():
    code = (
        "import sys\n"
        "from modelspec_cli.main import main\n"
        f"sys.argv = ['modelspec', 'summary', {str(SPECS / 'headline.yaml')!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


def test_console_script_runs_as_a_subprocess(tmp_path):
    completed = subprocess.run(["modelspec", "validate", str(SPECS / "headline.yaml")], capture_output=True, text=True)
    assert completed.returncode == 0 and "ok" in completed.stdout
    bad = write(tmp_path, "name: m\nsequential:\n  - {type: Dense, units: 3}\n")
    completed = subprocess.run(["modelspec", "validate", str(bad)], capture_output=True, text=True)
    assert completed.returncode == 2 and completed.stderr.startswith(f"{bad}:3:5:") and "Traceback" not in completed.stderr


@pytest.mark.parametrize("start", [["modelspec"], [sys.executable, "-m", "modelspec_cli.main"], [sys.executable, "-m", "modelspec_cli"],
                                   [sys.executable, "-m", "modelspec"]], ids=["script", "-m modelspec_cli.main", "-m modelspec_cli", "-m modelspec"])
def test_every_command_is_there_however_the_cli_is_started(start):
    # Commands once registered themselves on import; under `python -m modelspec_cli.main` they went on a second copy
    # of the module (`__main__`) and export and convert were missing. Now the group's table names them all.
    completed = subprocess.run([*start, "--help"], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    listed = completed.stdout.split("Commands:", 1)[1].split()
    commands = main.list_commands(None)
    assert {name for name in commands if name in listed} == set(commands), completed.stdout
    assert {"export", "convert", "schema", "layers", "init", "graph", "plot", "runs", "train"} <= set(commands)
    exported = subprocess.run([*start, "export", "--help"], capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0 and "--weights" in exported.stdout, exported.stderr


def test_validate_imports_only_the_layer_modules_a_spec_names():
    # Fast commands: a spec's schema covers the layer types it uses, not the whole catalog.
    code = (
        "import sys\n"
        "from modelspec.checked import check_spec\n"
        f"check_spec({str(SPECS / 'mnist_mlp.yaml')!r})\n"
        "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('modelspec.layers.') and '.base' not in m))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "['dense', 'dropout', 'input', 'model']"


def test_every_layer_type_lives_in_the_module_its_name_gives():
    from modelspec.layers import load_all_layers, module_of

    misplaced = {name: cls.__module__ for name, cls in load_all_layers().items() if module_of(name) != cls.__module__}
    assert not misplaced, f"rename these files after their type (MaxPooling2D -> max_pooling2d.py): {misplaced}"


def test_an_unknown_type_is_suggested_from_every_layer_type_even_unloaded(tmp_path):
    code = (
        "import sys\n"
        "from modelspec.checked import check_spec\n"
        "from modelspec.errors import SpecError\n"
        "try:\n"
        f"    check_spec({str(write(tmp_path, 'name: m' + chr(10) + 'sequential:' + chr(10) + '  - {type: GlobalAvgPooling2D, input_shape: [4, 4, 3]}' + chr(10)))!r})\n"
        "except SpecError as error:\n"
        "    print(error.problems[0].message)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "unknown layer type 'GlobalAvgPooling2D' (did you mean 'GlobalAveragePooling2D'?)" in completed.stdout, completed.stderr


def test_specs_of_different_layer_types_validate_in_one_process_in_any_order():
    # Each spec loads more layer types and rebuilds the unions, wrappers (Bidirectional, TimeDistributed) included.
    from modelspec.checked import check_spec

    paths = sorted(SPECS.glob("*.yaml"))
    for path in [*paths, *reversed(paths)]:
        check_spec(path)


def test_automatic_names_follow_keras_and_skip_explicit_names(tmp_path):
    from modelspec.checked import check_spec

    rows = ["name: m", "sequential:", "  - {type: Dense, units: 2, input_shape: [2]}", "  - {type: Dense, units: 2, name: dense_1}"]
    rows += ["  - {type: Dense, units: 2}"] * 3
    graph = check_spec(write(tmp_path, "\n".join(rows) + "\n")).graph
    assert list(graph.layers) == ["dense", "dense_1", "dense_2", "dense_3", "dense_4"]


CALLBACK_SPECS = {
    "typo": "name: m\nsequential:\n  - {type: Dense, units: 1, input_dim: 2}\nfit:\n  callbacks: [{type: EarlyStoping, patience: 2}]\n",
    "good": "name: m\nsequential:\n  - {type: Dense, units: 1, input_dim: 2}\nfit:\n  callbacks: [TerminateOnNaN, {type: EarlyStopping, monitor: loss, patience: 2}]\n",
    "empty": "name: m\nsequential:\n  - {type: Dense, units: 1, input_dim: 2}\nfit: {callbacks: 3}\n",
}


def test_callback_types_are_loaded_only_for_specs_with_callbacks(tmp_path):
    # A spec without fit.callbacks never creates the callback classes; specs with them validate
    # as before, in one process after such a spec, from a cold and from a warm schema cache.
    paths = {name: str(write(tmp_path, text, f"{name}.yaml")) for name, text in CALLBACK_SPECS.items()}
    code = (
        "import sys\n"
        "from modelspec.checked import check_spec\n"
        "from modelspec.errors import SpecError\n"
        f"check_spec({str(SPECS / 'mnist_mlp.yaml')!r})\n"
        "print('loaded after mnist_mlp:', 'modelspec.callbacks' in sys.modules)\n"
        f"for path in {[paths['typo'], paths['empty']]!r}:\n"
        "    try:\n"
        "        check_spec(path)\n"
        "    except SpecError as error:\n"
        "        print([problem.message for problem in error.problems])\n"
        f"spec = check_spec({paths['good']!r}).spec\n"
        "print([type(callback).__name__ for callback in spec.fit.callbacks], spec.fit.callbacks[1].patience)\n"
        f"check_spec({str(SPECS / 'mnist_mlp.yaml')!r})\n"
    )
    env = {**os.environ, "MODELSPEC_CACHE_DIR": str(tmp_path / "cache")}
    cold, warm = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False) for _ in range(2))
    assert cold.returncode == 0, cold.stderr
    assert (warm.returncode, warm.stdout) == (0, cold.stdout), warm.stderr
    lines = cold.stdout.splitlines()
    assert lines[0] == "loaded after mnist_mlp: False"
    assert "EarlyStoping" in lines[1] and "EarlyStopping" in lines[1]
    assert "fit.callbacks" in lines[2]
    assert lines[3] == "['TerminateOnNaN', 'EarlyStopping'] 2"
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 2  # one validator without callbacks, one with
