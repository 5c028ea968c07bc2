"""The `modelspec` group: every command in its table loads and answers --help, the group's --help
loads no library, and train's parameters are one TrainOptions."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from modelspec_cli.commands.train import TrainOptions
from modelspec_cli.main import COMMANDS, main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_answers_help(name):
    # click's own tests run --help on every command: each table entry imports and parses.
    result = CliRunner().invoke(main, [name, "--help"], prog_name="modelspec")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: modelspec {name} [OPTIONS]")
    command = main.get_command(click.Context(main), name)
    assert isinstance(command, click.Command) and command.name == name and command.help


def test_the_group_lists_the_table_and_suggests_close_names():
    result = CliRunner().invoke(main, ["--help"], prog_name="modelspec")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.split("Commands:\n", 1)[1].splitlines()]
    assert listed == sorted(COMMANDS)
    unknown = CliRunner().invoke(main, ["valdate"], prog_name="modelspec")
    assert unknown.exit_code == 2 and "No such command 'valdate'. (Did you mean one of: 'evaluate', 'validate'?)" in unknown.output


def test_help_loads_the_commands_but_no_library():
    # `modelspec --help` imports each command module for its short help: their tops stay light.
    code = (
        "import sys\n"
        "from modelspec_cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'numpy', 'pydantic', 'yaml', 'rich', 'modelspec.validate', 'modelspec.training')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy[-2:])))\n"
        "print(sorted(m for m in sys.modules if m.startswith('modelspec_cli.commands.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    loaded, commands = done.stdout.splitlines()[-2:]
    assert loaded == "[]"
    assert commands == str(sorted(f"modelspec_cli.commands.{name}" for name in COMMANDS))


def test_a_command_loads_only_its_own_module():
    code = (
        "import sys\n"
        "from modelspec_cli.main import main\n"
        "try:\n    main(['init'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('modelspec_cli.commands.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "['modelspec_cli.commands.init']"


def test_train_options_are_the_train_commands_parameters():
    command = main.get_command(click.Context(main), "train")
    assert [field.name for field in dataclasses.fields(TrainOptions)] == [param.name for param in command.params]
    defaults = TrainOptions(spec="s.yaml")
    assert command.make_context("train", ["s.yaml"]).params == dataclasses.asdict(defaults)
    with pytest.raises(dataclasses.FrozenInstanceError):
        defaults.seed = 1
