"""`modelspec train`: train a spec into a run directory, in this process or in --nproc N.

Its options become one TrainOptions; modelspec_cli.trainer does the work (torch), imported when
the command runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from modelspec_cli.console import reports_errors
from modelspec_cli.options import device_option, plugins_option, set_option

#: torch.manual_seed takes up to 2**64 - 1; each of --nproc's processes adds its rank times 1,000,003 (modelspec.training.distributed).
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class TrainOptions:
    """The train command's parameters, named as its click parameters are (`--json` is as_json)."""

    spec: str
    overrides: tuple[str, ...] = ()
    run_dir: Path | None = None
    resume: bool = False
    overwrite: bool = False
    force: bool = False
    seed: int = 0
    device: str = "auto"
    as_json: bool = False
    quiet: bool = False
    nproc: int | None = None
    allow_plugins: bool = False


@click.command()
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
def train(**params) -> None:
    """Train SPEC; weights, history and checkpoints go to a run directory."""
    from modelspec_cli.trainer import train as run_train  # torch and the training loop: not for --help

    run_train(TrainOptions(**params))
