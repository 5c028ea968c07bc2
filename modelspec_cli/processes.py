"""Training in several processes (modelspec.training.distributed): how many the machine allows, the
command line each is started with, and how they agree on a failure and report it once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click
import torch

from modelspec.errors import ModelspecError, UsageError
from modelspec.training import run as training_run
from modelspec.training.distributed import failure_kind, record_failure
from modelspec_cli.console import report

if TYPE_CHECKING:
    from modelspec.training.distributed import World


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity mask where the system has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def check_process_count(nproc: int, device: str, *, force: bool) -> None:
    """--nproc N: at most one process a GPU on CUDA, and a CPU on CPUs unless --force (UsageError with the figures)."""
    if training_run.resolve_device(device).type == "cuda":
        gpus = torch.cuda.device_count()
        if nproc > gpus:
            raise UsageError(f"--nproc {nproc}: this machine has {gpus} GPU(s), and each process needs one of its own: give --nproc {gpus} or fewer")
        return
    cpus = cpu_count()
    if nproc > cpus and not force:
        raise UsageError(f"--nproc {nproc}: this process may use {cpus} CPU(s); more processes than CPUs only compete for them: "
                         f"give --nproc {cpus} or fewer (--force starts {nproc} anyway)")


def command_line(command: click.Command, params: dict[str, object]) -> list[str]:
    """The arguments that give `command` these parameter values (None: left out)."""
    options: list[str] = []
    arguments: list[str] = []
    for param in command.params:
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


def agreed(world: World, start: Callable):
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


def as_process(world: World, body: Callable[[], None]) -> None:
    """Run `body` as one process of several: process 0 reports as a single process does; the others
    print nothing and leave why they stop in the launcher's error file, so that it is reported once
    (by `--nproc`, or torchrun)."""
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
