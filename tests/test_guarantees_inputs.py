"""The README's guarantees against hostile inputs (issue 15): code only from listed plugins, any
name, the command line, deep structures and long values. Each bad input is a clear error with exit
code 2, no traceback, and nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from modelspec.checked import check_spec
from modelspec.errors import SpecError
from modelspec.source import load_text
from tests.helpers import write


def modelspec(*args: str | bytes, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelspec_cli.main", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def cli(*args: str) -> object:
    from modelspec_cli.main import main

    return CliRunner().invoke(main, list(args))


def refused(result, *phrases: str) -> None:
    """Exit 2 with a message holding every phrase, and no traceback (a CompletedProcess or a CliRunner result)."""
    code = result.returncode if hasattr(result, "returncode") else result.exit_code
    output = result.stderr if hasattr(result, "returncode") else result.output
    assert code == 2, output
    assert "Traceback" not in output, output
    for phrase in phrases:
        assert phrase in output, output


# ----- 6: code runs only from the listed plugins ---------------------------------------------------
PLUGIN = '''
from typing import Literal

from modelspec.layers.base import LayerConfig, module_record, register


def triple():
    import torch

    class Triple(torch.nn.Module):
        def forward(self, x):
            return x * 3

    return Triple()


@register
class Tripler(LayerConfig):
    type: Literal["Tripler"]

    def compute_output_shape(self, input_shape):
        return input_shape

    def module(self, input_shapes):
        return module_record(f"{__name__}:triple")
'''
PLANTED = "from pathlib import Path\nPath(__file__).with_name('{name}.marker').write_text('ran')\n"
PLUGIN_SPEC = """
    name: planted
    plugins: [{plugin}]
    sequential:
      - {{type: Dense, units: 3, input_dim: 4}}
      - {{type: Tripler}}
"""
SAVE = """
import sys
from modelspec.checked import check_spec

check_spec(sys.argv[1], allow_plugins=True)
import json, numpy, yaml  # by name after the plugins: the installed modules
from safetensors.numpy import save_file  # as training saves weights

save_file({"w": numpy.zeros(2)}, sys.argv[2])
print(json.__file__, numpy.__file__, yaml.__file__, sys.modules["safetensors"].__file__)
"""


@pytest.mark.parametrize("plugin, files", [
    ("lab_tripler", {"lab_tripler.py": PLUGIN}),
    ("lab.tripler", {"lab/__init__.py": "", "lab/tripler.py": PLUGIN}),
    ("lab_pkg", {"lab_pkg/__init__.py": "from .layer import Tripler\n", "lab_pkg/layer.py": PLUGIN}),
])
def test_only_the_listed_plugin_files_run(tmp_path, plugin, files):
    specs, work = tmp_path / "specs", tmp_path / "work"
    work.mkdir()
    for name, text in files.items():
        (specs / name).parent.mkdir(parents=True, exist_ok=True)
        (specs / name).write_text(textwrap.dedent(text))
    for planted in ("safetensors", "json", "yaml", "numpy"):
        (specs / f"{planted}.py").write_text(PLANTED.format(name=planted))
    spec = write(specs, PLUGIN_SPEC.format(plugin=plugin))
    (work / "save.py").write_text(SAVE)
    done = subprocess.run([sys.executable, "save.py", str(spec), "w.safetensors"], cwd=work, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (work / "w.safetensors").stat().st_size > 0
    assert not list(specs.glob("*.marker")), "a file beside the spec ran"
    assert str(specs) not in done.stdout


def test_a_plugin_file_named_as_an_installed_module_is_refused(tmp_path):
    (tmp_path / "safetensors.py").write_text(PLANTED.format(name="safetensors"))
    spec = write(tmp_path, PLUGIN_SPEC.format(plugin="safetensors"))
    result = modelspec("validate", str(spec), "--allow-plugins")
    refused(result, "cannot import plugin 'safetensors'", "installed module 'safetensors'")
    assert not (tmp_path / "safetensors.marker").exists()


def test_an_installed_plugin_still_imports_by_name(tmp_path):
    spec = write(tmp_path, PLUGIN_SPEC.format(plugin="modelspec.layers.dense").replace("{type: Tripler}", "{type: Dense, units: 1}"))
    check_spec(spec, allow_plugins=True)


# ----- 7: any identifier names a layer or an input, or is refused at validate ------------------------
NAMES = ["class", "def", "None", "self", "torch", "forward", "input", "__init__", "getattr", "x", "_private", "__hidden",
         "lstm_stack", "relu"]


def _named(input_name: str, layer_name: str) -> str:
    return f"""
        name: named
        inputs: {{{input_name}: {{shape: [4]}}}}
        layers:
          - {{name: {layer_name}, type: Dense, units: 3, activation: relu, inputs: {input_name}}}
          - {{name: after, type: Dense, units: 2, inputs: {layer_name}}}
        outputs: [after, {layer_name}]
    """


@pytest.mark.parametrize("name", NAMES)
def test_any_name_builds_and_runs_or_is_refused_at_validate(tmp_path, name):
    import torch

    from modelspec.torch_build import build_module

    spec = write(tmp_path, _named(name, "hidden"))
    graph = check_spec(spec).graph  # as an input name: always valid
    assert [tuple(o.shape) for o in build_module(graph)(torch.ones(2, 4))] == [(2, 2), (2, 3)]
    try:
        graph = check_spec(write(tmp_path, _named("features", name), "layer.yaml")).graph
    except SpecError as error:
        assert len(error.problems) == 1 and f"'{name}'" in error.problems[0].message and error.problems[0].line == 4
        return
    module = build_module(graph)
    outputs = module(torch.ones(2, 4))
    assert [tuple(o.shape) for o in outputs] == [(2, 2), (2, 3)]
    assert f"{name}.kernel" in module.state_dict()  # weights keep the user's names


def test_a_missing_plugin_says_where_it_looked(tmp_path):
    with pytest.raises(SpecError, match="found neither .*lab_missing.py nor .*lab_missing/__init__.py beside the spec, nor an installed"):
        check_spec(write(tmp_path, PLUGIN_SPEC.format(plugin="lab_missing")), allow_plugins=True)


@pytest.mark.parametrize("name", ["class", "None", "def"])
def test_keywords_are_layer_names_their_weights_keyed_by_them(tmp_path, name):
    from modelspec.torch_build import build_module

    module = build_module(check_spec(write(tmp_path, _named("features", name))).graph)
    assert f"{name}.kernel" in module.state_dict() and f"self.{name}_(" in module.code  # issue 17: any identifier


@pytest.mark.parametrize("input_name, layer_name", [("self", "torch"), ("__in", "__hidden")])
def test_odd_names_train_and_export(tmp_path, input_name, layer_name):
    spec = write(tmp_path, _named(input_name, layer_name) + """
        compile: {loss: mse}
        fit: {epochs: 1}
        data: {train: {synthetic: {samples: 8}}}
    """)
    spec.write_text(spec.read_text().replace("        ", ""))
    run_dir = tmp_path / "run"
    trained = cli("train", str(spec), "--run-dir", str(run_dir), "--quiet", "--device", "cpu")
    assert trained.exit_code == 0, trained.output
    for suffix in (".py", ".pt2"):
        exported = cli("export", str(spec), "--weights", str(run_dir / "model.safetensors"), "-o", str(tmp_path / f"named{suffix}"))
        assert exported.exit_code == 0, exported.output


def test_reserved_names_cover_every_attribute_of_a_graph_module():
    import torch

    from modelspec.reserved_names import RESERVED_NAMES

    module = torch.fx.GraphModule(torch.nn.Module(), torch.fx.Graph())
    assert set(dir(module)) | set(vars(module)) <= RESERVED_NAMES


# ----- 12: the command line ------------------------------------------------------------------------
SMALL = """
    name: small
    sequential:
      - {type: Dense, units: 2, input_dim: 3}
    compile: {loss: mse}
    fit: {epochs: 1}
    data: {train: {synthetic: {samples: 8}}}
"""


@pytest.mark.parametrize("seed", [str(2**64), str(10**30), "-1"])
def test_out_of_range_seeds_are_refused(tmp_path, monkeypatch, seed):
    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path, SMALL)
    refused(cli("train", str(spec), "--seed", seed, "--device", "cpu"), "--seed", seed, "0<=x<=9223372036854775807")
    assert not (tmp_path / "runs").exists()


def test_the_largest_seed_trains(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("train", str(write(tmp_path, SMALL)), "--seed", str(2**63 - 1), "--device", "cpu", "--quiet")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "export"])
def test_non_utf8_overrides_are_refused(tmp_path, command):
    spec = write(tmp_path, SMALL)
    extra = {"train": [], "evaluate": ["--weights", "w.safetensors"], "predict": ["--weights", "w.safetensors", "--data", "d.npz", "--output", "o.npz"],
             "export": ["--weights", "w.safetensors", "-o", "m.py"]}[command]
    result = modelspec(command, str(spec), *extra, "--set", b"name=caf\xe9", cwd=tmp_path)
    refused(result, "--set", "'name=caf\\xe9' is not UTF-8 text (byte 0xe9 at offset 8)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_more_processes_than_cpus_are_refused(tmp_path, monkeypatch):
    from modelspec_cli.processes import cpu_count

    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path, SMALL)
    too_many = cpu_count() + 1
    refused(cli("train", str(spec), "--nproc", str(too_many), "--device", "cpu"), f"--nproc {too_many}", f"{cpu_count()} CPU(s)", "--force")
    refused(cli("train", str(spec), "--nproc", "1000", "--device", "cpu"), "--nproc 1000")
    assert not (tmp_path / "runs").exists()


def test_more_processes_than_gpus_are_refused_even_with_force(monkeypatch):
    import torch

    from modelspec.errors import UsageError
    from modelspec_cli.processes import check_process_count

    monkeypatch.setattr("modelspec.training.run.resolve_device", lambda name: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    check_process_count(1, "cuda", force=False)
    with pytest.raises(UsageError, match="--nproc 2: this machine has 1 GPU"):
        check_process_count(2, "cuda", force=True)


# ----- 15: deep structures -------------------------------------------------------------------------
def _nested_models(depth: int) -> str:
    lines = ["name: deep", "models:", "  m0: {sequential: [{type: Dense, units: 2, input_dim: 2}]}"]
    lines += [f"  m{i}: {{inputs: {{a: {{shape: [2]}}}}, layers: [{{type: Model, model: m{i - 1}, inputs: a}}], outputs: m{i - 1}}}" for i in range(1, depth)]
    lines += ["inputs: {a: {shape: [2]}}", f"layers: [{{type: Model, model: m{depth - 1}, inputs: a}}]", f"outputs: m{depth - 1}"]
    return "\n".join(lines) + "\n"


def test_models_nested_too_deep_are_a_located_error(tmp_path):
    from modelspec.graph import MAX_MODEL_DEPTH

    spec = tmp_path / "deep.yaml"
    spec.write_text(_nested_models(327))
    result = modelspec("validate", str(spec))
    refused(result, f"more than {MAX_MODEL_DEPTH} levels")
    assert result.stderr.count("\n") == 1  # one problem, at the first reference past the cap


def test_models_nested_to_the_cap_validate_summarise_and_build(tmp_path):
    import torch

    from modelspec.diagram import build_diagram, to_dot
    from modelspec.graph import MAX_MODEL_DEPTH
    from modelspec.summary import summary_json, summary_rows
    from modelspec.torch_build import build_module

    graph = check_spec(load_text(_nested_models(MAX_MODEL_DEPTH), str(tmp_path / "deep.yaml"))).graph
    assert summary_rows(graph, expand_nested=True) and summary_json(graph)
    assert to_dot(build_diagram(graph, expand_nested=True)).count("subgraph") == MAX_MODEL_DEPTH
    assert build_module(graph)(torch.ones(1, 2)).shape == (1, 2)
    with pytest.raises(SpecError, match=f"more than {MAX_MODEL_DEPTH} levels"):
        check_spec(load_text(_nested_models(MAX_MODEL_DEPTH + 1), str(tmp_path / "deep.yaml")))


def test_spec_files_calling_each_other_too_deep_are_a_located_error(tmp_path):
    from modelspec.graph import MAX_MODEL_DEPTH

    for i in range(MAX_MODEL_DEPTH + 2):
        inner = "sequential: [{type: Dense, units: 2, input_dim: 2}]" if i == 0 else \
            f"inputs: {{a: {{shape: [2]}}}}\nlayers: [{{type: Model, model: {{spec: s{i - 1}.yaml}}, inputs: a}}]\noutputs: model"
        (tmp_path / f"s{i}.yaml").write_text(f"name: s{i}\n{inner}\n")
    with pytest.raises(SpecError, match=f"more than {MAX_MODEL_DEPTH} levels"):
        check_spec(tmp_path / f"s{MAX_MODEL_DEPTH + 1}.yaml")


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "{a: " * 50_000 + "1" + "}" * 50_000,
                                  "- " * 50_000 + "x\n"], ids=["flow-lists", "flow-maps", "block-lists"])
def test_deeply_nested_yaml_is_refused_before_composing(tmp_path, text):
    spec = tmp_path / "deep.yaml"
    spec.write_text(text)
    refused(modelspec("validate", str(spec)), "nesting deeper than 100 levels")  # a segmentation fault in libyaml's composer before


@pytest.mark.parametrize("depth", [100_000, 1_000, 101])
def test_deeply_nested_json_is_refused_by_convert(tmp_path, depth):
    config = tmp_path / "deep.json"
    config.write_text("[" * depth + "]" * depth)
    refused(modelspec("convert", str(config), "-o", str(tmp_path / "out.yaml")), "nested deeper than 100 levels")
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize("text, where", [
    (b"epoch,loss\n0,0.5\n1,abc\n", "history.csv:3: column 'loss' holds 'abc'"),
    (b"epoch,loss\n0,0.5\n1,0.4,0.3\n", "history.csv:3: 3 values, expected 2"),
    (b"epoch,loss\n0.5,0.5\n", "history.csv:2: column 'epoch' holds '0.5'"),
    (b"\x00\xff\xfe\x89PNG", "history.csv: not UTF-8 text"),
    (b"epoch,epoch\n0,1\n", "history.csv:1: the column 'epoch' appears 2 times"),
])
def test_a_malformed_history_is_refused_by_plot(tmp_path, text, where):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "history.csv").write_bytes(text)
    refused(cli("plot", str(run_dir)), where)
    assert sorted(p.name for p in run_dir.iterdir()) == ["history.csv"]


def test_a_history_with_na_reads(tmp_path):
    from modelspec.runs import read_history

    (tmp_path / "history.csv").write_text("epoch,loss,val_loss\n0,0.5,NA\n1,0.4,0.45\n")
    history = read_history(tmp_path)
    assert history["epoch"] == [0, 1] and history["val_loss"][1] == 0.45


# ----- 17: long values are quoted short ------------------------------------------------------------
LONG = "D" * 100_000


@pytest.mark.parametrize("entry", [
    f"{{type: {LONG}, units: 2, input_dim: 3}}",
    f"{{type: Dense, name: {LONG}, units: 2, input_dim: 3}}",
    f"{{type: Dense, units: 2, input_dim: 3, activation: {LONG}}}",
    f"{{type: Dense, units: '{LONG}', input_dim: 3}}",
    f"{{reuse: {LONG}}}",
    f"{{type: Dense, units: {'9' * 100_000}, input_dim: 3}}",
    f"{{type: Dense, units: !!int {LONG}, input_dim: 3}}",
], ids=["type", "name", "activation", "units", "reuse", "huge-int", "tag"])
def test_long_values_are_quoted_short(tmp_path, entry):
    with pytest.raises(SpecError) as caught:
        check_spec(write(tmp_path, f"name: m\nsequential:\n  - {entry}\n"))
    for problem in caught.value.problems:
        assert len(str(problem)) < 500 and "(100,000 characters)" in str(problem), str(problem)[:600]


@pytest.mark.parametrize("assignment", [LONG, f"sequential.{LONG}.units=3", f"sequential.{'9' * 100_000}.units=3", f"name.{LONG}=3"],
                         ids=["no-equals", "item-name", "item-index", "inside-a-value"])
def test_a_long_override_is_quoted_short(assignment):
    from modelspec.overrides import apply_overrides

    with pytest.raises(SpecError) as caught:
        apply_overrides(load_text("name: m\nsequential: [{type: Dense, units: 2}]\n"), [assignment])
    assert len(str(caught.value)) < 500 and "(100,000 characters)" in str(caught.value)


def test_a_long_keras_class_name_is_quoted_short():
    from modelspec.interop.keras_config import convert_document

    layer = {"class_name": LONG, "config": {"name": "odd", LONG: 1}}
    with pytest.raises(SpecError) as caught:
        convert_document({"class_name": "Sequential", "config": {"name": "m", "layers": [layer]}})
    for problem in caught.value.problems:
        assert len(str(problem)) < 500 and "(100,000 characters)" in str(problem), str(problem)[:600]


def test_quote_and_shorten():
    from modelspec.errors import quote, shorten

    assert quote("units") == "'units'"
    assert quote("x" * 81) == f"'{'x' * 80}...' (81 characters)"
    assert shorten("y" * 100_000, 10) == "yyyyyyyyyy... (100,000 characters)"
    assert json.loads(json.dumps(quote("a\nb"))) == "'a\nb'"


def test_a_huge_window_on_a_small_input_is_refused_at_once(tmp_path):
    """The fuzz test's find: the smallest input that fits a kernel of 10**12 was counted up one size at a time."""
    from modelspec.shapes import smallest_input

    spec = tmp_path / "spec.yaml"
    spec.write_text("name: huge_window\nsequential:\n  - {type: Conv1D, filters: 2, kernel_size: 1000000000000, input_shape: [10, 3]}\n")
    result = subprocess.run([sys.executable, "-m", "modelspec", "validate", str(spec)], capture_output=True, text=True, timeout=60, check=False)
    refused(result, "expected spatial sizes of at least (1000000000000,)")
    for kernel, stride in [(1, 1), (3, 2), (7, 5), (10**12, 3)]:
        size = smallest_input(lambda n: (n - kernel) // stride + 1)
        assert size == kernel
