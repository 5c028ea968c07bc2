"""`modelspec export` and `modelspec convert`: models out to torch.export, ONNX and PyTorch source; Keras models in.

Registered on the `modelspec` group by importing this module (cli/main.py does, last).
"""

from __future__ import annotations

from pathlib import Path

import click
from modelspec_cli.main import main, plugins_option, reports_errors, set_option, stderr, stdout

#: A check difference above this is reported as a warning (float32 kernels differ by ~1e-7).
WARN_DIFFERENCE = 1e-4


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--weights", required=True, type=click.Path(dir_okay=False), help="A .safetensors file of trained weights.")
@click.option("-o", "--output", "out", required=True, type=click.Path(dir_okay=False),
              help="The file to write; its extension picks the format: .pt2 (torch.export), .onnx, .py (standalone PyTorch source).")
@set_option
@plugins_option
@reports_errors
def export(spec: str, weights: str, out: str, overrides: tuple[str, ...], allow_plugins: bool) -> None:
    """Write SPEC with trained --weights as a torch.export program, an ONNX model or a standalone PyTorch file."""
    from modelspec.interop.export import export as run_export

    exported = run_export(spec, weights, out, overrides=overrides, allow_plugins=allow_plugins)
    if exported.difference is None:
        check = exported.note
    else:
        check = f"largest difference from modelspec's outputs on a sample batch: {exported.difference:.2g}"
    stdout.print(f"wrote {exported.path} ({exported.format}); {check}", markup=False, soft_wrap=True)
    if exported.difference is not None and exported.difference > WARN_DIFFERENCE:
        stderr.print(f"warning: the exported model differs from modelspec's by {exported.difference:.3g}", markup=False, soft_wrap=True)


@main.command()
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
        from modelspec.interop.keras_weights import convert_weights

        written = convert_weights(model, spec, weights_out, allow_plugins=allow_plugins)
        stdout.print(f"wrote {weights_out}: {len(written)} tensors, {sum(t.numel() for t in written.values()):,} values", markup=False, soft_wrap=True)
        return
    if spec is not None or weights_out is not None:
        raise click.UsageError("--spec and --weights-out go with a .weights.h5 file; a .json config converts into a spec (-o)")
    from modelspec.files import atomic_write_text
    from modelspec.interop.keras_config import convert_file

    text, graph = convert_file(model)
    if out is None:
        click.echo(text, nl=False)
        return
    atomic_write_text(Path(out), text)
    stdout.print(f"wrote {out}: {len(graph.layers)} layers, {graph.total_params:,} parameters", markup=False, soft_wrap=True)
