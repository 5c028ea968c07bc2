"""`modelspec plot`: a run's training curves as an image (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import click

from modelspec_cli.console import reports_errors, stdout


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Image file (.png, .svg, .pdf); default RUN_DIR/curves.png.")
@reports_errors
def plot(run_dir: Path, output: Path | None) -> None:
    """Plot RUN_DIR's training curves from history.csv: a panel per metric, training and validation together.

    Needs matplotlib:  pip install 'modelspec[plot]'
    """
    from modelspec.curves import panels, save_curves
    from modelspec.runs import read_history

    output = output or run_dir / "curves.png"
    title = run_dir.resolve().name
    width, height = save_curves(panels(read_history(run_dir)), output, title=title)
    stdout.print(f"wrote {output} ({width}x{height})", markup=False)
