"""modelspec's command line: validate, summarise, train, evaluate and predict YAML model specs.

Every command exits 0 on success, 2 on a bad spec, bad data or bad usage (a clear message, no
traceback), 1 on anything else, and 130 on Ctrl-C.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
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


plugins_option = click.option("--allow-plugins", is_flag=True, help="Import the Python modules the spec lists under plugins: (trusted specs only).")


@main.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@plugins_option
@reports_errors
def validate(specs: tuple[str, ...], allow_plugins: bool) -> None:
    """Check SPECS and report every problem as FILE:LINE:COL: message (exit 2 if any)."""
    from modelspec.validate import check_file

    problems = []
    for spec in specs:
        try:
            check_file(spec, allow_plugins=allow_plugins)
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
@plugins_option
@reports_errors
def summary(spec: str, as_json: bool, expand_nested: bool, allow_plugins: bool) -> None:
    """Show SPEC's layers, output shapes, parameter counts and connections, as Keras's model.summary()."""
    from modelspec_cli.render import summary_table

    from modelspec.summary import summary_json, summary_rows, totals
    from modelspec.validate import check_file

    _, graph = check_file(spec, allow_plugins=allow_plugins)
    if as_json:
        click.echo(json.dumps(summary_json(graph), indent=2))
        return
    summary_table(stdout, graph.name, summary_rows(graph, expand_nested=expand_nested), totals(graph))


device_option = click.option(
    "--device", default="auto", show_default=True, metavar="auto|cpu|cuda", help="Where to run: auto picks CUDA when available."
)
set_option = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a spec value by dotted path, e.g. fit.epochs=3 (repeatable).")


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@set_option
@click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path), help="Run directory (default runs/<name>-<timestamp>).")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --run-dir from its last completed epoch.")
@click.option("--overwrite", is_flag=True, help="Replace the run already in --run-dir.")
@click.option("--force", is_flag=True, help="Train even when the model looks too large for this machine's memory.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: the same seed gives the same run.")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object last on stdout (progress goes to stderr).")
@click.option("--quiet", is_flag=True, help="No progress output.")
@plugins_option
@reports_errors
def train(spec: str, overrides: tuple[str, ...], run_dir: Path | None, resume: bool, overwrite: bool, force: bool, seed: int, device: str,
          as_json: bool, quiet: bool, allow_plugins: bool) -> None:
    """Train SPEC; weights, history and checkpoints go to a run directory."""
    from modelspec_cli.progress import BarProgress, PlainProgress
    from modelspec_cli.render import results_table

    from modelspec.training.run import TrainingRun, prepare

    out = stderr if as_json else stdout
    progress = [] if quiet else [BarProgress(out) if out.is_terminal else PlainProgress(out)]
    if resume and overwrite:
        raise click.UsageError("--resume continues a run and --overwrite replaces it: give one of them")
    run = TrainingRun(prepare(spec, overrides, allow_plugins=allow_plugins), run_dir, resume=resume, overwrite=overwrite, force=force, seed=seed, device=device, callbacks=progress)
    out.print(f"run directory: {run.run_dir}", markup=False)
    try:
        result = run.fit()
    except KeyboardInterrupt:
        stderr.print(f"interrupted: continue with  modelspec train {spec} --run-dir {run.run_dir} --resume", markup=False)
        sys.exit(130)
    final = {name: values[-1] for name, values in result.history.items() if values}
    if not quiet:
        columns = {"train": {k: v for k, v in final.items() if not k.startswith("val_")}}
        if any(k.startswith("val_") for k in final):
            columns["validation"] = {k: v for k, v in final.items() if k.startswith("val_")}
        if result.test:
            columns["test"] = result.test
        results_table(out, f"{run.prepared.spec.name}: {result.status} after {result.epochs} epoch(s)", columns)
    if as_json:
        document = {"run_dir": str(result.run_dir), "history": result.history, "epochs": result.epochs, "status": result.status}
        if result.test:
            document["test"] = result.test
        click.echo(json.dumps(document))
    if result.message:
        stderr.print(result.message, markup=False)
    if result.status == "stopped":
        sys.exit(1)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--weights", required=True, type=click.Path(dir_okay=False), help="A .safetensors file of trained weights.")
@click.option("--data", type=click.Path(dir_okay=False), help="An .npz of inputs and targets (default: the spec's data.test).")
@set_option
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@plugins_option
@reports_errors
def evaluate(spec: str, weights: str, data: str | None, overrides: tuple[str, ...], device: str, as_json: bool, allow_plugins: bool) -> None:
    """Loss and metrics of SPEC with trained --weights on --data (or the spec's test data)."""
    from modelspec.training.run import evaluate as run_evaluate
    from modelspec.training.run import prepare

    results = run_evaluate(prepare(spec, overrides, allow_plugins=allow_plugins), weights, data, device)
    if as_json:
        click.echo(json.dumps(results))
    else:
        stdout.print(" - ".join(f"{name}: {value:.4f}" for name, value in results.items()), markup=False)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--weights", required=True, type=click.Path(dir_okay=False), help="A .safetensors file of trained weights.")
@click.option("--data", required=True, type=click.Path(dir_okay=False), help="An .npz of the model's inputs.")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="The .npz to write, arrays named after the outputs (y for a sequential model).")
@set_option
@device_option
@plugins_option
@reports_errors
def predict(spec: str, weights: str, data: str, output: str, overrides: tuple[str, ...], device: str, allow_plugins: bool) -> None:
    """Run SPEC with trained --weights on --data; save the outputs to --output."""
    from modelspec.training.run import predict as run_predict
    from modelspec.training.run import prepare

    results = run_predict(prepare(spec, overrides, allow_plugins=allow_plugins), weights, data, output, device)
    shapes = ", ".join(f"{name} {tuple(array.shape)}" for name, array in results.items())
    stdout.print(f"wrote {output}: {shapes}", markup=False)


from modelspec_cli import interop  # noqa: E402,F401  (registers export and convert)

from modelspec_cli import tools  # noqa: E402,F401  (registers its commands: schema, layers, init, graph, plot, runs)

if __name__ == "__main__":
    main()
