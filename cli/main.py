"""modelspec's command line: validate, summarise, train, evaluate and predict YAML model specs.

Every command exits 0 on success, 2 on a bad spec, bad data or bad usage (a clear message, no
traceback), 1 on anything else, and 130 on Ctrl-C.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Callable

import click
from rich.console import Console

from modelspec.errors import ModelspecError, SpecError

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)


def reports_errors(command: Callable) -> Callable:
    """Run a command; render modelspec's typed errors on stderr with exit code 2, Ctrl-C as 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SpecError as error:
            render_problems(error)
            sys.exit(2)
        except ModelspecError as error:
            stderr.print(f"error: {error}", markup=False, soft_wrap=True)
            sys.exit(2)
        except KeyboardInterrupt:
            stderr.print("interrupted", markup=False)
            sys.exit(130)

    return wrapper


def render_problems(error: SpecError) -> None:
    from modelspec_cli.render import problems

    problems(stderr, error.problems)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modelspec")
def main() -> None:
    """Keras-style neural network models as YAML: validate, summarise, train, evaluate, predict."""


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@reports_errors
def validate(specs: tuple[str, ...]) -> None:
    """Check SPECS and report every problem as FILE:LINE:COL: message (exit 2 if any)."""
    from modelspec.validate import check_file

    problems = []
    for spec in specs:
        try:
            check_file(spec)
        except SpecError as error:
            problems.extend(error.problems)
    if problems:
        raise SpecError(problems)
    for spec in specs:
        stdout.print(f"{spec}: ok", markup=False)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--expand-nested", is_flag=True, help="Show the layers of nested models.")
@reports_errors
def summary(spec: str, as_json: bool, expand_nested: bool) -> None:
    """Show SPEC's layers, output shapes, parameter counts and connections, as Keras's model.summary()."""
    from modelspec.summary import summary_json, summary_rows, totals
    from modelspec.validate import check_file
    from modelspec_cli.render import summary_table

    _, graph = check_file(spec)
    if as_json:
        click.echo(json.dumps(summary_json(graph), indent=2))
        return
    summary_table(stdout, graph.name, summary_rows(graph, expand_nested=expand_nested), totals(graph))
