"""`modelspec layers`: the layer catalog, or one layer type's arguments and a YAML example."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from modelspec_cli.console import reports_errors, stdout


def _layer_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    from modelspec.layers import load_all_layers

    return [name for name in load_all_layers() if name.lower().startswith(incomplete.lower())]


@click.command()
@click.argument("name", required=False, shell_complete=_layer_names)
@click.option("--json", "as_json", is_flag=True, help="Print the catalog or the layer's details as JSON.")
@reports_errors
def layers(name: str | None, as_json: bool) -> None:
    """List the layer types (type, family, description), or show NAME's arguments and a YAML example."""
    from modelspec.catalog import catalog, layer_details
    from modelspec_cli.render import catalog_table, layer_card

    found = catalog() if name is None else layer_details(name)
    if as_json:
        click.echo(json.dumps([asdict(row) for row in found] if name is None else asdict(found), indent=2))
    elif name is None:
        catalog_table(stdout, found)
    else:
        layer_card(stdout, found)
