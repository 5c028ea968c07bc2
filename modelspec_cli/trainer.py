"""The train command's work: one run in this process, one of several processes' share, or the
launch of --nproc N processes (modelspec_cli.processes helps the several agree and report once).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import TYPE_CHECKING

import click

from modelspec.checked import check_spec
from modelspec.training.distributed import WorkersFailed, from_environment, in_launched_process, launch
from modelspec.training.run import TrainingRun
from modelspec.training.run_dir import default_run_dir
from modelspec_cli.console import stderr, stdout
from modelspec_cli.processes import agreed, as_process, check_process_count, command_line
from modelspec_cli.progress import BarProgress, PlainProgress
from modelspec_cli.render import results_table

if TYPE_CHECKING:
    from modelspec.training.distributed import World
    from modelspec_cli.commands.train import TrainOptions


def train(options: TrainOptions) -> None:
    """`modelspec train`: launch --nproc N processes, or train here (alone, or as one of torchrun's processes)."""
    if options.nproc is not None and options.nproc > 1:
        return launch_processes(options)
    world = from_environment(options.device)  # one of torchrun's (or --nproc's) processes, else a world of one
    if world.size == 1:
        return train_here(options, world)
    code = 0
    try:
        as_process(world, lambda: train_here(options, world))
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


def train_here(options: TrainOptions, world: World) -> None:
    """The train command in this process (`world`: its place among the run's processes, a world of one alone)."""
    main_process = world.is_main  # of several processes, process 0 alone prints
    out = (stderr if options.as_json else stdout).real
    # --quiet: no progress and no callbacks' messages; --json: both on stderr, in order (stdout holds the JSON document alone).
    progress = [] if options.quiet or not main_process else [BarProgress(out) if out.is_terminal else PlainProgress(out)]

    def start() -> TrainingRun:
        if options.resume and options.overwrite:
            raise click.UsageError("--resume continues a run and --overwrite replaces it: give one of them")
        return TrainingRun(check_spec(options.spec, options.overrides, allow_plugins=options.allow_plugins), options.run_dir, resume=options.resume,
                           overwrite=options.overwrite, force=options.force, seed=options.seed, device=options.device, callbacks=progress, world=world)

    run = start() if world.size == 1 else agreed(world, start)
    if main_process:
        out.print(f"run directory: {run.run_dir}", markup=False, highlight=False, soft_wrap=True)
    try:
        result = run.fit()
    except KeyboardInterrupt as interrupt:
        for display in progress:
            display.close()  # the terminal's cursor back before the message
        if main_process:
            processes = f" --nproc {world.size}" if world.size > 1 else ""
            stderr.print(f"interrupted: continue with  modelspec train {options.spec} --run-dir {run.run_dir}{processes} --resume", markup=False, highlight=False, soft_wrap=True)
        sys.exit(getattr(interrupt, "exit_code", 130))  # 143 after SIGTERM (modelspec.training.run.Terminated)
    if not main_process:
        sys.exit(1 if result.status == "stopped" else 0)
    _report(options, run, result, out)


def _report(options: TrainOptions, run: TrainingRun, result, out) -> None:
    """Process 0's results: the table of final metrics, the --json document, and the exit code of a stopped run."""
    final = result.final  # each metric's last value; val_* ones from the last epoch that validated
    if not options.quiet:
        columns = {"train": {k: v for k, v in final.items() if not k.startswith("val_")}}
        if any(k.startswith("val_") for k in final):
            columns["validation"] = {k: v for k, v in final.items() if k.startswith("val_")}
        if result.test:
            columns["test"] = result.test
        results_table(out, f"{run.prepared.spec.name}: {result.status} after {result.epochs} epoch(s)", columns)
    if options.as_json:
        document = {"run_dir": str(result.run_dir), "history": result.history, "epochs": result.epochs, "status": result.status}
        if result.test:
            document["test"] = result.test
        click.echo(json.dumps(document))
    if result.message:
        stderr.print(result.message, markup=False, highlight=False, soft_wrap=True)
    if result.status == "stopped":
        sys.exit(1)


def launch_processes(options: TrainOptions) -> None:
    """--nproc N: this train command in N processes through torch's elastic launcher, as torchrun runs it."""
    if in_launched_process():
        raise click.UsageError("--nproc: this process is already one of torchrun's processes; use --nproc or torchrun, not both")
    if options.resume and options.overwrite:
        raise click.UsageError("--resume continues a run and --overwrite replaces it: give one of them")
    check_process_count(options.nproc, options.device, force=options.force)
    checked = check_spec(options.spec, options.overrides, allow_plugins=options.allow_plugins)  # the spec's problems once, before N processes start
    run_dir = options.run_dir
    if run_dir is None and not options.resume:
        run_dir = default_run_dir(checked.spec.name)  # one name for every process
    each = dataclasses.replace(options, run_dir=run_dir, nproc=None)
    try:
        launch(options.nproc, ["train", *command_line(click.get_current_context().command, dataclasses.asdict(each))])
    except KeyboardInterrupt:
        sys.exit(130)  # process 0 has said how to resume
    except WorkersFailed as failure:
        if failure.details:
            stderr.print(failure.details.rstrip(), markup=False, highlight=False, soft_wrap=True)
        if failure.message:
            stderr.print(f"error: {failure.message}", markup=False, soft_wrap=True)
        sys.exit(failure.exit_code)
