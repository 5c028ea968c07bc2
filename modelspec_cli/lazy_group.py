"""A click group whose subcommands are imported on first use, as click's documentation shows
("Lazily Loading Subcommands"): the group holds a table of names and import paths, and running
`modelspec validate` imports modelspec_cli.commands.validate and nothing else.

`modelspec --help` loads every command module to read its short help, so a command module
imports only click and modelspec_cli's light modules at its top; the library (torch for train,
evaluate, predict and export) is imported when the command runs ("Further Deferring Imports").
"""

from __future__ import annotations

import importlib

import click


class LazyGroup(click.Group):
    """A click.Group with `lazy_subcommands`: {command name: "package.module.command_object"}."""

    def __init__(self, *args, lazy_subcommands: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_subcommands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            return self._lazy_load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """click's, with its did-you-mean drawn from the lazy names too (click looks only in `commands`)."""
        try:
            return super().resolve_command(ctx, args)
        except click.NoSuchCommand as error:
            raise click.NoSuchCommand(error.command_name, possibilities=self.list_commands(ctx), ctx=ctx) from None

    def _lazy_load(self, cmd_name: str) -> click.Command:
        module_name, object_name = self.lazy_subcommands[cmd_name].rsplit(".", 1)
        command = getattr(importlib.import_module(module_name), object_name)
        if not isinstance(command, click.Command):
            raise TypeError(f"lazy loading of {self.lazy_subcommands[cmd_name]} did not return a click.Command: {type(command).__name__}")
        return command
