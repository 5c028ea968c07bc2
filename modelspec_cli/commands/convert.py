"""`modelspec convert`: Keras models in, a config (model.to_json()) as a spec or Keras 3 weights as safetensors."""

from __future__ import annotations

from pathlib import Path

import click

from modelspec_cli.console import reports_errors, stdout
from modelspec_cli.options import plugins_option


@click.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="The spec to write (a .json config); default: print it.")
@click.option("--spec", "spec", type=click.Path(dir_okay=False), help="With a .weights.h5 file: the spec the weights are for.")
@click.option("--weights-out", type=click.Path(dir_okay=False), help="With a .weights.h5 file: the .safetensors file to write.")
@plugins_option
@reports_errors
def convert(model: str, out: str | None, spec: str | None, weights_out: str | None, allow_plugins: bool) -> None:
    """Convert a Keras model: a config (MODEL.json from model.to_json()) into a spec, or Keras 3 weights (MODEL.weights.h5) into safetensors."""
    if model.lower().endswith(".h5"):
        if spec is None or weights_out is None:
            raise click.UsageError("a .weights.h5 file converts with --spec SPEC.yaml (the model) and --weights-out W.safetensors")
        if out is not None:
            raise click.UsageError("-o writes a spec from a .json config; a .weights.h5 file writes --weights-out")
        _weights(model, spec, weights_out, allow_plugins)
        return
    if spec is not None or weights_out is not None:
        raise click.UsageError("--spec and --weights-out go with a .weights.h5 file; a .json config converts into a spec (-o)")
    _config(model, out)


def _weights(model: str, spec: str, weights_out: str, allow_plugins: bool) -> None:
    """A .weights.h5 file into safetensors (torch)."""
    from modelspec.interop.keras_weights import convert_weights

    written = convert_weights(model, spec, weights_out, allow_plugins=allow_plugins)
    stdout.print(f"wrote {weights_out}: {len(written)} tensors, {sum(t.numel() for t in written.values()):,} values", markup=False, soft_wrap=True)


def _config(model: str, out: str | None) -> None:
    """A Keras .json config into a spec (no torch)."""
    from modelspec.files import atomic_write_text
    from modelspec.interop.keras_config import convert_file

    text, graph = convert_file(model)
    if out is None:
        click.echo(text, nl=False)
        return
    atomic_write_text(Path(out), text)
    stdout.print(f"wrote {out}: {len(graph.layers)} layers, {graph.total_params:,} parameters", markup=False, soft_wrap=True)
