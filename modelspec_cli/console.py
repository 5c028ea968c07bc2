"""Where the commands' output goes: stdout and stderr as rich consoles made on first use, and
modelspec's typed errors rendered on stderr with their exit codes.

Every command exits 0 on success, 2 on a bad spec, bad data or bad usage (a clear message, no
traceback), 1 on anything else, and 130 on Ctrl-C.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import click

from modelspec.errors import ModelspecError, SpecError


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
    from modelspec_cli.render import problems  # rich: only when there are problems to draw

    problems(stderr, error.problems)
