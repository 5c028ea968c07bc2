"""Commands to see and script specs and runs: schema, layers, init, graph, plot, runs.

Importing this module registers them on the `modelspec` group (cli/main.py imports it last). Each
command is a few lines: the library returns data (modelspec.schema, catalog, templates, diagram,
curves, runs) and modelspec_cli.render draws it. Heavy imports stay inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from modelspec_cli.main import main, plugins_option, reports_errors, stdout

from modelspec.errors import UsageError
from modelspec.templates import TEMPLATES

# The `modelspec` group is always the imported module's: `python -m modelspec_cli.main` runs that one too (see the
# end of cli/main.py), so commands registered here and in cli/interop.py are there however the CLI is started.
group = main
output_option = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")


def _write(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write a text file; exclusive refuses an existing file. Errors are exit 2 with a message."""
    try:
        with open(path, "x" if exclusive else "w", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"'{path}' already exists: choose another -o FILE, or remove it first") from None
    except OSError as error:
        raise UsageError(f"cannot write '{path}': {error.strerror}") from None


def _layer_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from modelspec.layers import load_all_layers

    return [name for name in load_all_layers() if name.lower().startswith(incomplete.lower())]


@group.command()
@output_option
@reports_errors
def schema(output: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of spec files, for completion and checks as you type.

    Editors that run yaml-language-server (VS Code's YAML extension, Neovim's yamlls) use it when
    a spec's first line is  # yaml-language-server: $schema=PATH/TO/modelspec.schema.json
    """
    from modelspec.schema import schema_text

    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
        return
    _write(output, text)
    stdout.print(f"wrote {output}", markup=False)


@group.command()
@click.argument("name", required=False, shell_complete=_layer_names)
@click.option("--json", "as_json", is_flag=True, help="Print the catalog or the layer's details as JSON.")
@reports_errors
def layers(name: str | None, as_json: bool) -> None:
    """List the layer types (type, family, description), or show NAME's arguments and a YAML example."""
    from dataclasses import asdict

    from modelspec_cli.render import catalog_table, layer_card

    from modelspec.catalog import catalog, layer_details

    found = catalog() if name is None else layer_details(name)
    if as_json:
        click.echo(json.dumps([asdict(row) for row in found] if name is None else asdict(found), indent=2))
    elif name is None:
        catalog_table(stdout, found)
    else:
        layer_card(stdout, found)


@group.command()
@click.option("--template", type=click.Choice(list(TEMPLATES)), default="mlp", show_default=True,
              help="The kind of model to start from.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the spec to FILE (never replaces an existing file); default: stdout.")
@reports_errors
def init(template: str, output: Path | None) -> None:
    """Write a commented starter spec that validates and trains as it is, on built-in data."""
    from modelspec.templates import template_text

    if output is None:
        click.echo(template_text(template), nl=False)
        return
    _write(output, template_text(template, model_name=output.stem), exclusive=True)
    stdout.print(f"wrote {output}: try  modelspec summary {output}  and  modelspec train {output}", markup=False)


#: Suffixes `graph -o` writes itself, and those it renders through Graphviz's dot.
_TEXT_FORMATS = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid"}
_RENDERED = (".svg", ".png", ".pdf")


@group.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.dot, FILE.mmd (Mermaid), or FILE.svg/.png/.pdf (rendered with Graphviz's dot). Default: DOT on stdout.")
@click.option("--shapes/--no-shapes", default=True, show_default=True, help="Show each call's input and output shapes.")
@click.option("--expand-nested", is_flag=True, help="Draw nested models as clusters of their own layers.")
@plugins_option
@reports_errors
def graph(spec: str, output: Path | None, shapes: bool, expand_nested: bool, allow_plugins: bool) -> None:
    """Draw SPEC's model as a diagram, like keras.utils.plot_model: a node per layer and input, an edge per call."""
    import shutil
    import subprocess

    from modelspec.diagram import build_diagram, to_dot, to_mermaid
    from modelspec.validate import check_file

    suffix = output.suffix.lower() if output is not None else ".dot"
    if suffix not in _TEXT_FORMATS and suffix not in _RENDERED:
        raise UsageError(f"-o {output}: unknown format '{suffix}': use .dot, .mmd (Mermaid), .svg, .png or .pdf")
    dot = shutil.which("dot") if suffix in _RENDERED else None
    if suffix in _RENDERED and dot is None:
        raise UsageError(f"rendering {suffix} needs Graphviz's `dot` program, which is not installed: install the graphviz package "
                         "(apt-get install graphviz, brew install graphviz or conda install graphviz), or write .dot or .mmd")
    _, resolved = check_file(spec, allow_plugins=allow_plugins)
    diagram = build_diagram(resolved, shapes=shapes, expand_nested=expand_nested)
    text = to_mermaid(diagram) if _TEXT_FORMATS.get(suffix) == "mermaid" else to_dot(diagram)
    if output is None:
        click.echo(text, nl=False)
    elif suffix in _TEXT_FORMATS:
        _write(output, text)
        stdout.print(f"wrote {output}", markup=False)
    else:
        done = subprocess.run([dot, f"-T{suffix[1:]}", "-o", str(output)], input=text, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise UsageError(f"Graphviz's dot could not render {output}: {done.stderr.strip()}")
        stdout.print(f"wrote {output}", markup=False)


@group.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Image file (.png, .svg, .pdf); default RUN_DIR/curves.png.")
@reports_errors
def plot(run_dir: Path, output: Path | None) -> None:
    """Plot RUN_DIR's training curves from history.csv: a panel per metric, training and validation together.

    Needs matplotlib:  pip install 'modelspec[plot]'
    """
    from modelspec.curves import panels, save_curves
    from modelspec.runs import read_history

    output = output or run_dir / "curves.png"
    title = run_dir.resolve().name
    width, height = save_curves(panels(read_history(run_dir)), output, title=title)
    stdout.print(f"wrote {output} ({width}x{height})", markup=False)


@group.command()
@click.argument("directory", default="runs", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sort", "sort_key", metavar="METRIC", help="Order by a metric's best value (best first), or by started, name, epochs, duration.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as a JSON list.")
@reports_errors
def runs(directory: Path, sort_key: str | None, as_json: bool) -> None:
    """List the runs under DIRECTORY (default runs/): spec, overrides, epochs, final and best metrics, duration, status."""
    from modelspec_cli.render import runs_table

    from modelspec.runs import list_runs, metric_names, sort_runs

    found = list_runs(directory)
    if sort_key:
        found = sort_runs(found, sort_key)
    if as_json:
        click.echo(json.dumps([run.as_json() for run in found], indent=2))
    else:
        runs_table(stdout, found, metric_names(found))
