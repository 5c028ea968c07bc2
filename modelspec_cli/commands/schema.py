"""`modelspec schema`: the JSON Schema of spec files, for editors."""

from __future__ import annotations

from pathlib import Path

import click

from modelspec_cli.console import reports_errors, stdout
from modelspec_cli.options import output_option, write_output


@click.command()
@output_option
@reports_errors
def schema(output: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of spec files, for completion and checks as you type.

    Editors that run yaml-language-server (VS Code's YAML extension, Neovim's yamlls) use it when
    a spec's first line is  # yaml-language-server: $schema=PATH/TO/modelspec.schema.json
    """
    from modelspec.schema.editor import schema_text

    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text)
    stdout.print(f"wrote {output}", markup=False)
