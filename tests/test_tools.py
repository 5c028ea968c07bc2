"""The tools to see and script specs and runs: schema, layers, init, graph, plot, runs.

Each command runs through click's CliRunner and as a subprocess (`python -m modelspec_cli.main`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter

from modelspec.catalog import catalog, example_blocks, layer_example
from modelspec.layers import load_all_layers
from modelspec_cli.main import main

LAYERS = load_all_layers()
from modelspec.checked import check_spec
from modelspec.source import load_file, load_text
from modelspec.templates import TEMPLATES
from tests.helpers import ROOT, SPECS, write

SCHEMA_FILE = ROOT / "schema" / "modelspec.schema.json"
SPEC_FILES = sorted(SPECS.glob("*.yaml"))


def cli(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


@pytest.fixture
def console_width():
    """Set the width of the CLI's rich console (made on first use, from the terminal) for one test."""
    from modelspec_cli.console import stdout as lazy

    stdout = lazy.real
    saved = stdout._width
    yield lambda width: setattr(stdout, "width", width)
    stdout._width = saved


def command(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m modelspec_cli.main ARGS` in a subprocess, as a script would run it."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "modelspec_cli.main", *args], capture_output=True, text=True, cwd=cwd or ROOT, env=env, timeout=120, check=False)


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def all_messages(errors) -> str:
    """Every message of a jsonschema error tree (oneOf branches included)."""
    found = []
    for error in errors:
        found.append(error.message)
        found.append(all_messages(error.context))
    return "\n".join(found)


# ----- schema ------------------------------------------------------------------------------------
def test_committed_schema_is_what_the_command_prints():
    result = cli("schema")
    assert result.exit_code == 0, result.output
    assert result.output == SCHEMA_FILE.read_text(), "schema/modelspec.schema.json is stale: run  modelspec schema -o schema/modelspec.schema.json"


def test_schema_command_writes_a_file_in_a_subprocess(tmp_path):
    done = command("schema", "-o", str(tmp_path / "s.json"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "s.json").read_text() == SCHEMA_FILE.read_text()


def test_schema_has_each_layer_and_argument_with_description_and_default():
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    defs = schema["$defs"]
    for name in LAYERS:
        assert defs[name].get("description"), name
        for key, prop in defs[name]["properties"].items():
            assert prop.get("description"), f"{name}.{key} has no description"
    dense = defs["Dense"]["properties"]
    assert dense["activation"]["default"] == "linear" and dense["units"]["description"] == "Dimensionality of the output space."
    assert "units" in defs["Dense"]["required"]


def test_every_layer_argument_declares_its_description():
    # On the pydantic Field itself, where the argument is declared (a shared one once, in its base class or mixin):
    # the schema's and catalog's fallback text must not hide an argument declared without one.
    missing = sorted(f"{name}.{key}" for name, cls in LAYERS.items() for key, info in cls.model_fields.items()
                     if key != "type" and not (info.description or "").strip())
    assert not missing, f"add Field(..., description=...) to: {', '.join(missing)}"


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_every_example_validates_against_the_schema_and_points_at_it(path, validator):
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schema/modelspec.schema.json"
    assert (path.parent / first.split("=", 1)[1]).resolve() == SCHEMA_FILE.resolve()
    errors = list(validator.iter_errors(load_file(path).data))
    assert not errors, all_messages(errors)


def test_schema_rejects_a_misspelled_key_and_an_unknown_layer_type(validator):
    misspelled = load_text("sequential:\n  - {type: Dense, unit: 3, input_shape: [4]}\n").data
    errors = list(validator.iter_errors(misspelled))
    assert errors and "'unit' was unexpected" in all_messages(errors)
    unknown = load_text("sequential:\n  - {type: Dence, units: 3, input_shape: [4]}\n").data
    errors = list(validator.iter_errors(unknown))
    assert errors and "'Dence'" in all_messages(errors)
    top_level = load_text("sequential:\n  - {type: Dense, units: 3, input_shape: [4]}\nfit: {epoch: 3}\n").data
    assert "'epoch' was unexpected" in all_messages(validator.iter_errors(top_level))
    assert not list(validator.iter_errors(load_text("sequential:\n  - {type: Dense, units: 3, input_shape: [4]}\n").data))


def test_schema_accepts_the_bare_name_forms(validator):
    text = """
        sequential:
          - {type: Dense, units: 3, input_shape: [4], kernel_regularizer: l2, kernel_constraint: non_neg}
        fit: {callbacks: [TerminateOnNaN, {type: EarlyStopping, patience: 2}]}
        compile: {optimizer: {type: sgd, learning_rate: 0.01}, loss: mse}
    """
    data = load_text(text.replace("\n        ", "\n").strip() + "\n").data
    assert not list(validator.iter_errors(data))


# ----- layers ------------------------------------------------------------------------------------
def test_layers_lists_the_catalog():
    rows = catalog()
    assert {row.type for row in rows} == set(LAYERS) and all(row.family and row.description for row in rows)
    result = cli("layers")
    assert result.exit_code == 0, result.output
    for name in ("Dense", "Conv2D", "LSTM", "MultiHeadAttention", "Concatenate"):
        assert name in result.output
    listed = json.loads(cli("layers", "--json").output)
    assert {row["type"] for row in listed} == set(LAYERS)


def test_layers_name_shows_arguments_defaults_and_an_example(console_width):
    console_width(200)
    result = cli("layers", "Dense")
    assert result.exit_code == 0, result.output
    for text in ("units", "required", "Dimensionality of the output space.", "activation", "linear", "glorot_uniform", "example:",
                 "{type: Dense, units: 64, activation: relu}"):
        assert text in result.output, text
    details = json.loads(cli("layers", "conv2d", "--json").output)  # case-insensitive
    assert details["type"] == "Conv2D" and any(a["name"] == "filters" and a["required"] for a in details["arguments"])


@pytest.fixture(scope="module")
def entry_adapter():
    from modelspec import spec
    from modelspec.schema import build

    build.use_types(LAYERS)
    return TypeAdapter(spec.LayerEntry)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_example_validates(name, validator, entry_adapter):
    blocks = example_blocks(name)
    assert blocks, f"the module docstring of {name} has no YAML example block"
    assert layer_example(name) == "\n".join(text for text, _ in blocks)
    for _, entries in blocks:
        for entry in entries:
            entry_adapter.validate_python(entry, context={})
        assert not list(validator.iter_errors({"sequential": entries})), name


def test_unknown_layer_is_exit_2_with_did_you_mean():
    result = cli("layers", "Dence")
    assert result.exit_code == 2 and "did you mean 'Dense'" in result.output
    done = command("layers", "Dence")
    assert done.returncode == 2 and "did you mean 'Dense'" in done.stderr and "Traceback" not in done.stderr


def test_shell_completion_of_layer_names():
    env = {"_MODELSPEC_COMPLETE": "bash_complete", "COMP_WORDS": "modelspec layers Conv1", "COMP_CWORD": "2"}
    result = CliRunner().invoke(main, [], env=env, prog_name="modelspec")
    assert "plain,Conv1D" in result.output and "plain,Conv1DTranspose" in result.output
    script = CliRunner().invoke(main, [], env={"_MODELSPEC_COMPLETE": "bash_source"}, prog_name="modelspec")
    assert "_MODELSPEC_COMPLETE" in script.output


# ----- init --------------------------------------------------------------------------------------
@pytest.mark.parametrize("template", list(TEMPLATES))
def test_init_writes_a_spec_that_validates_and_trains(template, tmp_path, validator):
    path = tmp_path / "starter.yaml"
    result = cli("init", "--template", template, "-o", str(path))
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert text.startswith("#") and "name: starter" in text
    check_spec(path)
    assert not list(validator.iter_errors(load_file(path).data))
    tiny = ["--set", "fit.epochs=1", "--set", "fit.steps_per_epoch=2", "--set", "fit.batch_size=128"]
    if "dataset: digits" in text:
        tiny += ["--set", "data.train.split=test"]  # 360 rows to load and split
    trained = cli("train", str(path), *tiny, "--run-dir", str(tmp_path / "run"), "--quiet", "--json", "--device", "cpu")
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.output.strip().splitlines()[-1])["status"] == "finished"


def test_init_refuses_to_overwrite_and_prints_without_output(tmp_path):
    path = write(tmp_path, "mine\n", "taken.yaml")
    result = cli("init", "-o", str(path))
    assert result.exit_code == 2 and "already exists" in result.output and path.read_text() == "mine\n"
    printed = cli("init", "--template", "lstm")
    assert printed.exit_code == 0 and "type: LSTM" in printed.output and "name: lstm" in printed.output
    done = command("init", "--template", "multi-io", "-o", str(tmp_path / "mio.yaml"))
    assert done.returncode == 0, done.stderr
    check_spec(tmp_path / "mio.yaml")


# ----- graph -------------------------------------------------------------------------------------
_DOT_NODE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)" \[label="(?:[^"\\]|\\.)*"[^\]]*\];$')
_DOT_EDGE = re.compile(r'^\s*"((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)"(?: \[label="((?:[^"\\]|\\.)*)"\])?;$')


def parse_dot(text: str) -> tuple[list[str], list[tuple[str, str, str]], list[str]]:
    """A small DOT reader for what to_dot writes: (node ids, edges (source, target, label), cluster ids); fails on anything else."""
    lines = text.strip().splitlines()
    assert lines[0].startswith("digraph ") and lines[0].endswith("{") and lines[-1] == "}"
    nodes, edges, clusters, depth = [], [], [], 1
    for line in lines[1:-1]:
        stripped = line.strip()
        if stripped.startswith(("graph [", "node [", "edge [", "label=")):
            continue
        if match := re.match(r'^subgraph "(cluster_[^"]+)" \{$', stripped):
            clusters.append(match[1])
            depth += 1
        elif stripped == "}":
            depth -= 1
        elif match := _DOT_NODE.match(line):
            nodes.append(match[1])
        elif match := _DOT_EDGE.match(line):
            edges.append((match[1], match[2], match[3] or ""))
        else:
            raise AssertionError(f"unexpected DOT line: {line!r}")
    assert depth == 1, "unbalanced braces"
    assert len(set(nodes)) == len(nodes) and all(s in nodes and t in nodes for s, t, _ in edges)
    return nodes, edges, clusters


def parse_mermaid(text: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    lines = text.strip().splitlines()
    assert lines[0] == "flowchart TB"
    nodes, edges = [], []
    for line in lines[1:]:
        if match := re.match(r'^\s*(n\d+)(?:\(\[|\[)"[^"]*"(?:\]\)|\])$', line):
            nodes.append(match[1])
        elif match := re.match(r'^\s*(n\d+) -->(?:\|"([^"]*)"\|)? (n\d+)$', line):
            edges.append((match[1], match[3], match[2] or ""))
        else:
            assert re.match(r"^\s*(subgraph c\d+\[\"[^\"]*\"\]|end|classDef .*|class [n0-9,]+ input)$", line), line
    assert len(set(nodes)) == len(nodes) and all(s in nodes and t in nodes for s, t, _ in edges)
    return nodes, edges


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.name)
def test_graph_has_a_node_per_layer_and_input_and_an_edge_per_call(path, tmp_path):
    graph = check_spec(path).graph
    layer_nodes = len(graph.inputs) + len(graph.layers)
    calls = sum(len(node.inputs) for node in graph.order)
    result = cli("graph", str(path))
    assert result.exit_code == 0, result.output
    nodes, edges, _ = parse_dot(result.output)
    assert (len(nodes), len(edges)) == (layer_nodes, calls)
    assert cli("graph", str(path), "-o", str(tmp_path / "g.mmd")).exit_code == 0
    nodes, edges = parse_mermaid((tmp_path / "g.mmd").read_text())
    assert (len(nodes), len(edges)) == (layer_nodes, calls)


def test_a_shared_layer_is_one_node_with_an_edge_per_call(tmp_path):
    nodes, edges, _ = parse_dot(cli("graph", str(SPECS / "shared_conv.yaml")).output)
    assert nodes.count("conv") == 1
    assert sorted((s, label) for s, t, label in edges if t == "conv") == [("large", "→ @1"), ("small", "→ @0")]
    assert sorted((t, label) for s, t, label in edges if s == "conv") == [("pool_large", "@1"), ("pool_small", "@0")]
    text = cli("graph", str(SPECS / "shared_conv.yaml")).output
    assert "@0: (None, 32, 32, 3) → (None, 32, 32, 16)" in text and "@1: (None, 64, 64, 3) → (None, 64, 64, 16)" in text
    bare = cli("graph", str(SPECS / "shared_conv.yaml"), "--no-shapes").output
    assert "(None" not in bare and "conv (Conv2D)" in bare


def test_expand_nested_draws_the_model_as_a_cluster(tmp_path):
    nodes, edges, clusters = parse_dot(cli("graph", str(SPECS / "video_classifier.yaml"), "--expand-nested").output)
    assert clusters == ["cluster_per_frame"]
    assert nodes == ["frames", "per_frame/frame", "per_frame/hidden_1", "per_frame/hidden_2", "per_frame/predictions"]
    assert ("frames", "per_frame/frame", "") in edges and len(edges) == 4
    plain, _, _ = parse_dot(cli("graph", str(SPECS / "video_classifier.yaml")).output)
    assert plain == ["frames", "per_frame"]
    assert cli("graph", str(SPECS / "video_classifier.yaml"), "--expand-nested", "-o", str(tmp_path / "v.mmd")).exit_code == 0
    assert "subgraph c0[" in (tmp_path / "v.mmd").read_text()


def test_graph_renders_through_graphviz_or_says_what_to_install(tmp_path, monkeypatch):
    if shutil.which("dot"):
        result = cli("graph", str(SPECS / "inception.yaml"), "-o", str(tmp_path / "g.svg"))
        assert result.exit_code == 0, result.output
        assert "<svg" in (tmp_path / "g.svg").read_text()
        done = subprocess.run(["dot", "-Tsvg"], input=cli("graph", str(SPECS / "headline.yaml"), "--expand-nested").output,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    monkeypatch.setattr(shutil, "which", lambda name: None)
    result = cli("graph", str(SPECS / "inception.yaml"), "-o", str(tmp_path / "g.png"))
    assert result.exit_code == 2 and "graphviz" in result.output and not (tmp_path / "g.png").exists()
    result = cli("graph", str(SPECS / "inception.yaml"), "-o", str(tmp_path / "g.txt"))
    assert result.exit_code == 2 and ".mmd" in result.output


def test_graph_in_a_subprocess(tmp_path):
    done = command("graph", str(SPECS / "shared_lstm_tweets.yaml"))
    assert done.returncode == 0, done.stderr
    nodes, edges, _ = parse_dot(done.stdout)
    assert nodes == ["tweet_a", "tweet_b", "shared_lstm", "merged", "predictions"] and len(edges) == 5
    missing = cli("graph", str(tmp_path / "missing.yaml"))
    assert missing.exit_code == 2 and "no such file" in missing.output


# ----- runs and plot -----------------------------------------------------------------------------
TINY = """
name: tiny
inputs: {features: {shape: [4]}}
layers:
  - {name: hidden, type: Dense, units: 8, activation: relu, inputs: features}
  - {name: label, type: Dense, units: 3, activation: softmax}
outputs: label
compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 16, validation_split: 0.25}
data: {train: {synthetic: {samples: 64}}}
"""


def fake_run(directory: Path, status: str, history: str, **info) -> Path:
    directory.mkdir(parents=True)
    (directory / "run.json").write_text(json.dumps({"status": status, "name": "fake", "spec": "fake.yaml", "overrides": [], **info}))
    (directory / "history.csv").write_text(history)
    return directory


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_runs_lists_and_sorts_two_trained_runs(tmp_path, console_width):
    spec = write(tmp_path, TINY)
    for name, seed, epochs in (("first", "1", "2"), ("second", "2", "3")):
        result = cli("train", str(spec), "--run-dir", str(tmp_path / "runs" / name), "--seed", seed, "--set", f"fit.epochs={epochs}", "--quiet", "--device", "cpu")
        assert result.exit_code == 0, result.output
    listed = json.loads(cli("runs", str(tmp_path / "runs"), "--json").output)
    assert [Path(run["run_dir"]).name for run in listed] == ["first", "second"]
    assert [run["epochs"] for run in listed] == [2, 3] and {run["status"] for run in listed} == {"finished"}
    assert listed[1]["overrides"] == ["fit.epochs=3"] and listed[0]["name"] == "tiny"
    for run in listed:
        assert run["started"] and run["ended"] and run["duration_s"] > 0
        assert set(run["final"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert run["best"]["val_loss"] <= run["final"]["val_loss"] and run["best"]["accuracy"] >= run["final"]["accuracy"]
    by_loss = json.loads(cli("runs", str(tmp_path / "runs"), "--sort", "val_loss", "--json").output)
    assert [run["best"]["val_loss"] for run in by_loss] == sorted(run["best"]["val_loss"] for run in listed)
    by_accuracy = json.loads(cli("runs", str(tmp_path / "runs"), "--sort", "accuracy", "--json").output)
    assert [run["best"]["accuracy"] for run in by_accuracy] == sorted((run["best"]["accuracy"] for run in listed), reverse=True)
    console_width(200)
    table = cli("runs", str(tmp_path / "runs"), "--sort", "val_loss")
    assert table.exit_code == 0 and "first" in table.output and "second" in table.output and "fit.epochs=3" in table.output
    assert re.search(r"┃ run +┃ spec +┃ overrides +┃ epochs ┃ status +┃ duration ┃ accuracy ┃", table.output)
    console_width(60)  # too narrow for a column per metric: the metrics are stacked in one column
    narrow = cli("runs", str(tmp_path / "runs"))
    assert narrow.exit_code == 0 and re.search(r"val_accuracy +0\.\d{4}", narrow.output) and "metrics" in narrow.output
    wrong = cli("runs", str(tmp_path / "runs"), "--sort", "val_los")
    assert wrong.exit_code == 2 and "did you mean 'val_loss'" in wrong.output
    done = command("runs", str(tmp_path / "runs"), "--json", "--sort", "val_loss")
    assert done.returncode == 0, done.stderr
    assert [run["run_dir"] for run in json.loads(done.stdout)] == [run["run_dir"] for run in by_loss]


def test_runs_shows_every_status_and_refuses_a_missing_directory(tmp_path):
    history = "epoch,loss,val_loss\n0,1.0,NA\n1,0.5,0.75\n"
    for status in ("finished", "interrupted", "stopped", "failed", "running"):
        fake_run(tmp_path / "runs" / status, status, history, started=f"2026-01-01T00:00:0{len(status) % 10}")
    (tmp_path / "runs" / "not_a_run").mkdir()
    listed = json.loads(cli("runs", str(tmp_path / "runs"), "--json").output)
    assert sorted(run["status"] for run in listed) == sorted(["finished", "interrupted", "stopped", "failed", "running"])
    assert all(run["final"] == {"loss": 0.5, "val_loss": 0.75} and run["epochs"] == 2 for run in listed)
    table = cli("runs", str(tmp_path / "runs"))
    for status in ("finished", "interrupted", "stopped", "failed", "running"):
        assert status in table.output
    missing = cli("runs", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "no runs directory" in missing.output


def test_plot_writes_a_png_of_the_expected_size(tmp_path):
    pytest.importorskip("matplotlib")
    run = fake_run(tmp_path / "run", "finished", "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.0,NA,NA\n1,0.6,0.8,0.55,0.9\n2,0.7,0.6,0.6,0.85\n")
    result = cli("plot", str(run), "-o", str(tmp_path / "curves.png"))
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "curves.png") == (900, 320)  # two panels (accuracy, loss) of 450 x 320
    from matplotlib.image import imread

    assert imread(tmp_path / "curves.png").shape[:2] == (320, 900)
    assert cli("plot", str(run)).exit_code == 0 and png_size(run / "curves.png") == (900, 320)
    wrong = cli("plot", str(run), "-o", str(tmp_path / "curves.txt"))
    assert wrong.exit_code == 2 and ".png" in wrong.output


def test_plot_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    run = fake_run(tmp_path / "run", "finished", "epoch,loss\n0,1.0\n")
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.ticker"):
        monkeypatch.setitem(sys.modules, module, None)
    result = cli("plot", str(run))
    assert result.exit_code == 2 and "pip install 'modelspec[plot]'" in result.output and "Traceback" not in result.output


def test_plot_in_a_subprocess(tmp_path):
    run = fake_run(tmp_path / "run", "finished", "epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,0.7\n")
    done = command("plot", str(run), "-o", str(tmp_path / "c.png"))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert done.returncode == 2 and "modelspec[plot]" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
        assert png_size(tmp_path / "c.png") == (450, 320)


# ----- light imports -----------------------------------------------------------------------------
def test_help_validate_summary_and_the_tools_do_not_import_torch_or_matplotlib(tmp_path):
    spec = str(SPECS / "shared_conv.yaml")
    script = f"""
import sys
from modelspec_cli.main import main
for args in (["--help"], ["validate", {spec!r}], ["summary", {spec!r}], ["schema"], ["layers"], ["layers", "Dense"],
             ["graph", {spec!r}], ["init"], ["runs", {str(tmp_path)!r}], ["plot", "--help"]):
    try:
        main(args, standalone_mode=False)
    except SystemExit:
        pass
print("HEAVY:", sorted(m for m in ("torch", "matplotlib") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY: []"


# ----- README gallery ----------------------------------------------------------------------------
def test_readme_gallery_shows_every_spec_with_its_summary_and_diagram():
    import importlib.util

    loader = importlib.util.spec_from_file_location("make_gallery", ROOT / "docs" / "make_gallery.py")
    gallery = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(gallery)
    readme = (ROOT / "README.md").read_text()
    block = readme.split(gallery.START, 1)[1].split(gallery.END, 1)[0]
    assert block == gallery.gallery_markdown(), "the README's gallery is stale: run  python docs/make_gallery.py"
    for path in SPEC_FILES:
        assert f"<b>{path.name}</b>" in block and (ROOT / "docs" / "diagrams" / f"{path.stem}.svg").is_file(), path.name
