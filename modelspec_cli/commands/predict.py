"""`modelspec predict`: run trained weights on inputs and save the outputs."""

from __future__ import annotations

import click

from modelspec_cli.console import reports_errors, stdout
from modelspec_cli.options import device_option, force_option, plugins_option, set_option


@click.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--weights", required=True, type=click.Path(dir_okay=False), help="A .safetensors file of trained weights.")
@click.option("--data", required=True, type=click.Path(dir_okay=False), help="An .npz of the model's inputs, or a table (.csv, .tsv, .jsonl, .parquet, .arrow; read with data.columns).")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="The .npz to write, arrays named after the outputs (y for a sequential model), or a .csv / .tsv / .parquet table.")
@set_option
@device_option
@force_option
@plugins_option
@reports_errors
def predict(spec: str, weights: str, data: str, output: str, overrides: tuple[str, ...], device: str, force: bool, allow_plugins: bool) -> None:
    """Run SPEC with trained --weights on --data; save the outputs to --output."""
    from modelspec.checked import check_spec
    from modelspec.training.run import predict as run_predict

    results = run_predict(check_spec(spec, overrides, allow_plugins=allow_plugins), weights, data, output, device, force=force)
    shapes = ", ".join(f"{name} {tuple(array.shape)}" for name, array in results.items())
    stdout.print(f"wrote {output}: {shapes}", markup=False)
