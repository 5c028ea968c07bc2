"""`modelspec summary`: a spec's layers, shapes and parameter counts, as Keras's model.summary()."""

from __future__ import annotations

import json

import click

from modelspec_cli.console import reports_errors, stdout
from modelspec_cli.options import plugins_option, set_option


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@set_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--expand-nested", is_flag=True, help="Show the layers of nested models.")
@plugins_option
@reports_errors
def summary(spec: str, overrides: tuple[str, ...], as_json: bool, expand_nested: bool, allow_plugins: bool) -> None:
    """Show SPEC's layers, output shapes, parameter counts and connections, as Keras's model.summary()."""
    from modelspec.checked import check_spec
    from modelspec.summary import summary_json, summary_rows, totals
    from modelspec_cli.render import summary_table

    graph = check_spec(spec, overrides, allow_plugins=allow_plugins).graph
    if as_json:
        click.echo(json.dumps(summary_json(graph), indent=2))
        return
    summary_table(stdout, graph.name, summary_rows(graph, expand_nested=expand_nested), totals(graph))
