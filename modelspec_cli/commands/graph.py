"""`modelspec graph`: a spec's model as a diagram (DOT, Mermaid, or rendered through Graphviz)."""

from __future__ import annotations

from pathlib import Path

import click

from modelspec.errors import UsageError
from modelspec_cli.console import reports_errors, stdout
from modelspec_cli.options import plugins_option, set_option, write_output

#: Suffixes `graph -o` writes itself, and those it renders through Graphviz's dot.
_TEXT_FORMATS = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid"}
_RENDERED = (".svg", ".png", ".pdf")


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@set_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.dot, FILE.mmd (Mermaid), or FILE.svg/.png/.pdf (rendered with Graphviz's dot). Default: DOT on stdout.")
@click.option("--shapes/--no-shapes", default=True, show_default=True, help="Show each call's input and output shapes.")
@click.option("--expand-nested", is_flag=True, help="Draw nested models as clusters of their own layers.")
@plugins_option
@reports_errors
def graph(spec: str, overrides: tuple[str, ...], output: Path | None, shapes: bool, expand_nested: bool, allow_plugins: bool) -> None:
    """Draw SPEC's model as a diagram, like keras.utils.plot_model: a node per layer and input, an edge per call."""
    import shutil
    import subprocess  # not for --help

    from modelspec.checked import check_spec
    from modelspec.diagram import build_diagram, to_dot, to_mermaid

    suffix = output.suffix.lower() if output is not None else ".dot"
    if suffix not in _TEXT_FORMATS and suffix not in _RENDERED:
        raise UsageError(f"-o {output}: unknown format '{suffix}': use .dot, .mmd (Mermaid), .svg, .png or .pdf")
    dot = shutil.which("dot") if suffix in _RENDERED else None
    if suffix in _RENDERED and dot is None:
        raise UsageError(f"rendering {suffix} needs Graphviz's `dot` program, which is not installed: install the graphviz package "
                         "(apt-get install graphviz, brew install graphviz or conda install graphviz), or write .dot or .mmd")
    resolved = check_spec(spec, overrides, allow_plugins=allow_plugins).graph
    diagram = build_diagram(resolved, shapes=shapes, expand_nested=expand_nested)
    text = to_mermaid(diagram) if _TEXT_FORMATS.get(suffix) == "mermaid" else to_dot(diagram)
    if output is None:
        click.echo(text, nl=False)
    elif suffix in _TEXT_FORMATS:
        write_output(output, text)
        stdout.print(f"wrote {output}", markup=False)
    else:
        done = subprocess.run([dot, f"-T{suffix[1:]}", "-o", str(output)], input=text, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise UsageError(f"Graphviz's dot could not render {output}: {done.stderr.strip()}")
        stdout.print(f"wrote {output}", markup=False)
