"""modelspec's command line: validate, summarise, train, evaluate and predict YAML model specs.

The `modelspec` group and its table of commands, one module each in modelspec_cli/commands/,
imported when used (modelspec_cli.lazy_group). Every command exits 0 on success, 2 on a bad spec,
bad data or bad usage (a clear message, no traceback), 1 on anything else, and 130 on Ctrl-C
(modelspec_cli.console).
"""

from __future__ import annotations

import os

import click

from modelspec_cli.lazy_group import LazyGroup

# pydantic looks for third-party plugins in every installed package's entry points on its first
# schema; modelspec's own spec models have no use for them, and startup time matters here.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

#: Each command's name and the click command object that implements it.
COMMANDS = {
    # the spec and its model
    "validate": "modelspec_cli.commands.validate.validate",
    "summary": "modelspec_cli.commands.summary.summary",
    "train": "modelspec_cli.commands.train.train",
    "evaluate": "modelspec_cli.commands.evaluate.evaluate",
    "predict": "modelspec_cli.commands.predict.predict",
    # models out to torch.export, ONNX and PyTorch source; Keras models in
    "export": "modelspec_cli.commands.export.export",
    "convert": "modelspec_cli.commands.convert.convert",
    # to see and script specs and runs
    "schema": "modelspec_cli.commands.schema.schema",
    "layers": "modelspec_cli.commands.layers.layers",
    "init": "modelspec_cli.commands.init.init",
    "graph": "modelspec_cli.commands.graph.graph",
    "plot": "modelspec_cli.commands.plot.plot",
    "runs": "modelspec_cli.commands.runs.runs",
}


@click.group(cls=LazyGroup, lazy_subcommands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modelspec")
def main() -> None:
    """Keras-style neural network models as YAML: validate, summarise, train, evaluate, predict."""


if __name__ == "__main__":  # python -m modelspec_cli.main
    main(prog_name="modelspec")
