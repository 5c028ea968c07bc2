"""modelspec's command line: validate, summarise, train, evaluate and predict YAML model specs.

Every command exits 0 on success, 2 on a bad spec, bad data or bad usage (a clear message, no
traceback), 1 on anything else, and 130 on Ctrl-C.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

# pydantic looks for third-party plugins in every installed package's entry points on its first
# schema; modelspec's own spec models have no use for them, and startup time matters here.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from modelspec.errors import ModelspecError, SpecError, UsageError, shorten


class LazyConsole:
    """A rich Console made on first use: `--help` and a passing `validate` never import rich.

    Attribute access goes to the Console; `real` is the Console itself, for rich objects that take one.
    """

    def __init__(self, **options: object):
        self._options = options
        self._console = None

    @property
    def real(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.real, name)


# emoji=False: a value quoted in a message, such as ':thumbs_up:', prints as written (and rich's emoji table is not loaded).
stdout = LazyConsole(highlight=False, emoji=False)
stderr = LazyConsole(stderr=True, highlight=False, emoji=False)


def report(error: ModelspecError | click.ClickException) -> int:
    """Render a typed error (or a click usage error) on stderr; its exit code (2)."""
    if isinstance(error, click.ClickException):
        error.show()
        return error.exit_code
    if isinstance(error, SpecError):
        render_problems(error)
    else:
        stderr.print(f"error: {error}", markup=False, soft_wrap=True)
    return 2


def reports_errors(command: Callable) -> Callable:
    """Run a command; render modelspec's typed errors on stderr with exit code 2, Ctrl-C as 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ModelspecError as error:
            sys.exit(report(error))
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
        click.echo(f"{spec}: ok")


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


def _utf8_overrides(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse a --set value that is not UTF-8 text (bytes the shell passed that Python could not decode)."""
    for value in values:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raw = os.fsencode(value)
            shown = shorten(raw.decode("utf-8", "backslashreplace"))
            raise click.BadParameter(f"'{shown}' is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}): "
                                     "write overrides in UTF-8", ctx, param) from None
    return values


set_option = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", callback=_utf8_overrides,
                          help="Override a spec value by dotted path, e.g. fit.epochs=3 (repeatable).")
#: torch.manual_seed takes up to 2**64 - 1; each of --nproc's processes adds its rank times 1,000,003 (modelspec.training.distributed).
MAX_SEED = 2**63 - 1


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@set_option
@click.option("--run-dir", type=click.Path(file_okay=False, path_type=Path), help="Run directory (default runs/<name>-<timestamp>).")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --run-dir from its last completed epoch.")
@click.option("--overwrite", is_flag=True, help="Replace the run already in --run-dir.")
@click.option("--force", is_flag=True, help="Train even when the model looks too large for this machine's memory, or --nproc exceeds its CPUs.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True, help="Random seed (0 to 2**63-1): the same seed gives the same run.")
@device_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object last on stdout (progress goes to stderr).")
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.option("--nproc", type=click.IntRange(min=1), metavar="N",
              help="Train in N processes on this machine (torch.distributed data parallel, as torchrun --nproc-per-node N); fit.batch_size is per process.")
@plugins_option
@reports_errors
def train(spec: str, overrides: tuple[str, ...], run_dir: Path | None, resume: bool, overwrite: bool, force: bool, seed: int, device: str,
          as_json: bool, quiet: bool, allow_plugins: bool, nproc: int | None) -> None:
    """Train SPEC; weights, history and checkpoints go to a run directory."""
    from modelspec.training.distributed import from_environment

    if nproc is not None and nproc > 1:
        return _launch(nproc)
    world = from_environment(device)  # one of torchrun's (or --nproc's) processes, else None
    if world is None:
        return _train(spec, overrides, run_dir, resume, overwrite, force, seed, device, as_json, quiet, allow_plugins)
    code = 0
    try:
        _as_process(world, lambda: _train(spec, overrides, run_dir, resume, overwrite, force, seed, device, as_json, quiet, allow_plugins, world))
    except SystemExit as ending:  # how processes other than 0 end, and a stopped run
        if ending.code is not None and not isinstance(ending.code, int):
            raise
        code = ending.code or 0
    finally:
        world.close()
    # The run is complete and its files closed: skip the interpreter's shutdown, where gloo's worker
    # threads aborted about one process exit in fifteen ("terminate called without an active
    # exception", SIGABRT with no Python frame left; torch 2.13, after destroy_process_group).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _train(spec: str, overrides: tuple[str, ...], run_dir: Path | None, resume: bool, overwrite: bool, force: bool, seed: int, device: str,
           as_json: bool, quiet: bool, allow_plugins: bool, world=None) -> None:
    """The train command in this process (`world`: its place among several, or None)."""
    from modelspec_cli.progress import BarProgress, PlainProgress
    from modelspec_cli.render import results_table

    from modelspec.training.run import TrainingRun, prepare

    main_process = world is None or world.is_main  # of several processes, process 0 alone prints
    out = (stderr if as_json else stdout).real
    progress = [] if quiet or not main_process else [BarProgress(out) if out.is_terminal else PlainProgress(out)]

    def start() -> TrainingRun:
        if resume and overwrite:
            raise click.UsageError("--resume continues a run and --overwrite replaces it: give one of them")
        return TrainingRun(prepare(spec, overrides, allow_plugins=allow_plugins), run_dir, resume=resume, overwrite=overwrite, force=force, seed=seed,
                           device=device, callbacks=progress, world=world)

    run = start() if world is None else _agreed(world, start)
    if main_process:
        out.print(f"run directory: {run.run_dir}", markup=False)
    try:
        result = run.fit()
    except KeyboardInterrupt as interrupt:
        if main_process:
            processes = f" --nproc {world.size}" if world is not None else ""
            stderr.print(f"interrupted: continue with  modelspec train {spec} --run-dir {run.run_dir}{processes} --resume", markup=False)
        sys.exit(getattr(interrupt, "exit_code", 130))  # 143 after SIGTERM (modelspec.training.run.Terminated)
    if not main_process:
        sys.exit(1 if result.status == "stopped" else 0)
    final = result.final  # each metric's last value; val_* ones from the last epoch that validated
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


# ----- several processes (modelspec.training.distributed) ----------------------------------------
def _launch(nproc: int) -> None:
    """--nproc N: this train command in N processes through torch's elastic launcher, as torchrun runs it."""
    from modelspec.training.distributed import WorkersFailed, in_launched_process, launch
    from modelspec.training.run import default_run_dir, prepare

    context = click.get_current_context()
    params = context.params
    if in_launched_process():
        raise click.UsageError("--nproc: this process is already one of torchrun's processes; use --nproc or torchrun, not both")
    if params["resume"] and params["overwrite"]:
        raise click.UsageError("--resume continues a run and --overwrite replaces it: give one of them")
    check_process_count(nproc, params["device"], force=params["force"])
    prepared = prepare(params["spec"], params["overrides"], allow_plugins=params["allow_plugins"])  # the spec's problems once, before N processes start
    run_dir = params["run_dir"]
    if run_dir is None and not params["resume"]:
        run_dir = default_run_dir(prepared.spec.name)  # one name for every process
    try:
        launch(nproc, ["train", *_arguments(context, run_dir=run_dir, nproc=None)])
    except KeyboardInterrupt:
        sys.exit(130)  # process 0 has said how to resume
    except WorkersFailed as failure:
        if failure.details:
            stderr.print(failure.details.rstrip(), markup=False, highlight=False, soft_wrap=True)
        if failure.message:
            stderr.print(f"error: {failure.message}", markup=False, soft_wrap=True)
        sys.exit(failure.exit_code)


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def check_process_count(nproc: int, device: str, *, force: bool) -> None:
    """--nproc N: at most one process a GPU on CUDA, and a CPU on CPUs unless --force (UsageError with the figures)."""
    import torch

    from modelspec.training.run import resolve_device

    if resolve_device(device).type == "cuda":
        gpus = torch.cuda.device_count()
        if nproc > gpus:
            raise UsageError(f"--nproc {nproc}: this machine has {gpus} GPU(s), and each process needs one of its own: give --nproc {gpus} or fewer")
        return
    cpus = cpu_count()
    if nproc > cpus and not force:
        raise UsageError(f"--nproc {nproc}: this process may use {cpus} CPU(s); more processes than CPUs only compete for them: "
                         f"give --nproc {cpus} or fewer (--force starts {nproc} anyway)")


def _arguments(context: click.Context, **values) -> list[str]:
    """The command line of the context's command from its parsed parameters (with `values` replaced; None: left out)."""
    params = {**context.params, **values}
    options: list[str] = []
    arguments: list[str] = []
    for param in context.command.params:
        value = params.get(param.name)
        if value is None:
            continue
        if isinstance(param, click.Argument):
            arguments.extend(str(v) for v in (value if param.nargs != 1 else [value]))
            continue
        name = next((opt for opt in param.opts if opt.startswith("--")), param.opts[0])
        if getattr(param, "is_flag", False):
            if value:
                options.append(name)
            elif param.secondary_opts:
                options.append(param.secondary_opts[0])
        elif param.multiple:
            for item in value:
                options.extend([name, str(item)])
        else:
            options.extend([name, str(value)])
    return [*options, "--", *arguments]


def _agreed(world, start: Callable):
    """`start()` in every process; when it fails in any (a check), process 0 reports the first failure
    and every process exits 2 once it has."""
    try:
        run, failure = start(), None
    except (ModelspecError, click.ClickException) as error:
        run, failure = None, error
    first = world.agree(failure)
    if first is None:
        return run
    code = 2
    if world.is_main:
        code = report(failure if failure is not None else ModelspecError(f"process {first[0]} of {world.size}: {first[1]}"))
    world.barrier()  # the others exit after process 0 has reported
    sys.exit(code)


def _as_process(world, body: Callable[[], None]) -> None:
    """Run `body` as one process of several: process 0 reports as a single process does; the others
    print nothing and leave why they stop in the launcher's error file, so that it is reported once
    (by `--nproc`, or torchrun)."""
    from modelspec.training.distributed import failure_kind, record_failure

    try:
        body()
    except SystemExit as ending:
        if ending.code not in (0, None) and not world.is_main:
            record_failure(None, "reported")
        raise
    except (ModelspecError, click.ClickException, KeyboardInterrupt) as error:
        if world.is_main:
            raise  # reported as one process reports it
        interrupted = isinstance(error, KeyboardInterrupt)
        record_failure(error, "reported" if interrupted else "error")
        sys.exit(130 if interrupted else 2)
    except Exception as error:
        if not record_failure(error, failure_kind(error)):
            raise  # no launcher to tell: the traceback, as one process shows it
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


from modelspec_cli import (
    interop,  # noqa: F401  (registers export and convert)
    tools,  # noqa: F401  (registers its commands: schema, layers, init, graph, plot, runs)
)

if __name__ == "__main__":
    # `python -m modelspec_cli.main` runs this file as `__main__`, a second copy of the module; interop and tools
    # registered their commands on the imported `modelspec_cli.main`'s group (the one `modelspec` runs), so run that.
    from modelspec_cli.main import main as modelspec

    modelspec(prog_name="modelspec")
