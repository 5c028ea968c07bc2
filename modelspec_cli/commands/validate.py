"""`modelspec validate`: check specs; each file's result in argument order, problems as FILE:LINE:COL: message."""

from __future__ import annotations

import click

from modelspec.errors import SpecError
from modelspec_cli.console import render_problems, reports_errors
from modelspec_cli.options import plugins_option, set_option


@click.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@set_option
@plugins_option
@reports_errors
def validate(specs: tuple[str, ...], overrides: tuple[str, ...], allow_plugins: bool) -> None:
    """Check each of SPECS (with the --set overrides applied to each): `SPEC: ok` on stdout for a valid one,
    every problem of an invalid one as FILE:LINE:COL: message on stderr; exit 2 if any is invalid."""
    from modelspec.checked import check_spec

    failed = 0
    for spec in specs:
        try:
            check_spec(spec, overrides, allow_plugins=allow_plugins)
        except SpecError as error:
            failed += 1
            render_problems(error)
        else:
            click.echo(f"{spec}: ok")
    if failed:
        click.get_current_context().exit(2)
