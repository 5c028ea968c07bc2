"""`modelspec validate`: check specs, every problem as FILE:LINE:COL: message."""

from __future__ import annotations

import click

from modelspec.errors import SpecError
from modelspec_cli.console import reports_errors
from modelspec_cli.options import plugins_option


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@plugins_option
@reports_errors
def validate(specs: tuple[str, ...], allow_plugins: bool) -> None:
    """Check SPECS and report every problem as FILE:LINE:COL: message (exit 2 if any)."""
    from modelspec.checked import check_spec

    problems = []
    for spec in specs:
        try:
            check_spec(spec, allow_plugins=allow_plugins)
        except SpecError as error:
            problems.extend(error.problems)
    if problems:
        raise SpecError(problems)
    for spec in specs:
        click.echo(f"{spec}: ok")
