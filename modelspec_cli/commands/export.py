"""`modelspec export`: a spec with trained weights out as a torch.export program, ONNX, or PyTorch source."""

from __future__ import annotations

import click

from modelspec_cli.console import reports_errors, stderr, stdout
from modelspec_cli.options import plugins_option, set_option

#: A check difference above this is reported as a warning (float32 kernels differ by ~1e-7).
WARN_DIFFERENCE = 1e-4


@click.command()
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
