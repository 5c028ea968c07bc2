"""`modelspec evaluate`: the loss and metrics of trained weights on test data."""

from __future__ import annotations

import json

import click

from modelspec_cli.console import reports_errors, stdout
from modelspec_cli.options import device_option, force_option, plugins_option, set_option


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--weights", required=True, type=click.Path(dir_okay=False), help="A .safetensors file of trained weights.")
@click.option("--data", type=click.Path(dir_okay=False), help="An .npz of inputs and targets, or a table file (default: the spec's data.test).")
@set_option
@device_option
@force_option
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@plugins_option
@reports_errors
def evaluate(spec: str, weights: str, data: str | None, overrides: tuple[str, ...], device: str, force: bool, as_json: bool, allow_plugins: bool) -> None:
    """Loss and metrics of SPEC with trained --weights on --data (or the spec's test data)."""
    from modelspec.checked import check_spec
    from modelspec.training.run import evaluate as run_evaluate

    results = run_evaluate(check_spec(spec, overrides, allow_plugins=allow_plugins), weights, data, device, force=force)
    if as_json:
        click.echo(json.dumps(results))
    else:
        stdout.print(" - ".join(f"{name}: {value:.4f}" for name, value in results.items()), markup=False)
