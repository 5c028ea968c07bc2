"""`modelspec init`: a commented starter spec from a template."""

from __future__ import annotations

from pathlib import Path

import click

from modelspec.templates import TEMPLATES, template_text
from modelspec_cli.console import reports_errors, stdout
from modelspec_cli.options import write_output


@click.command()
@click.option("--template", type=click.Choice(list(TEMPLATES)), default="mlp", show_default=True,
              help="The kind of model to start from.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the spec to FILE (never replaces an existing file); default: stdout.")
@reports_errors
def init(template: str, output: Path | None) -> None:
    """Write a commented starter spec that validates and trains as it is, on built-in data."""
    if output is None:
        click.echo(template_text(template), nl=False)
        return
    write_output(output, template_text(template, model_name=output.stem), exclusive=True)
    stdout.print(f"wrote {output}: try  modelspec summary {output}  and  modelspec train {output}", markup=False)
