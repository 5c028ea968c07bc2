"""Options several commands share (--allow-plugins, --device, --set, -o), and writing an -o file."""

from __future__ import annotations

import os
from pathlib import Path

import click

from modelspec.errors import UsageError, shorten

plugins_option = click.option("--allow-plugins", is_flag=True, help="Import the Python modules the spec lists under plugins: (trusted specs only).")

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

force_option = click.option("--force", is_flag=True, help="Run even when the model or the data looks too large for this machine's memory.")
output_option = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")


def write_output(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write a text file; exclusive refuses an existing file. Errors are exit 2 with a message."""
    try:
        with open(path, "x" if exclusive else "w", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"'{path}' already exists: choose another -o FILE, or remove it first") from None
    except OSError as error:
        raise UsageError(f"cannot write '{path}': {error.strerror}") from None
