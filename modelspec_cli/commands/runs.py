"""`modelspec runs`: the runs under a directory, with their metrics, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click

from modelspec_cli.console import reports_errors, stdout


@click.command()
@click.argument("directory", default="runs", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sort", "sort_key", metavar="METRIC", help="Order by a metric's best value (best first), or by started, name, epochs, duration.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as a JSON list.")
@reports_errors
def runs(directory: Path, sort_key: str | None, as_json: bool) -> None:
    """List the runs under DIRECTORY (default runs/): spec, overrides, epochs, final and best metrics, duration, status."""
    from modelspec.runs import list_runs, metric_names, sort_runs
    from modelspec_cli.render import runs_table

    found = list_runs(directory)
    if sort_key:
        found = sort_runs(found, sort_key)
    if as_json:
        click.echo(json.dumps([run.as_json() for run in found], indent=2))
    else:
        runs_table(stdout, found, metric_names(found))
