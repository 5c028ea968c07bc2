"""Plugins: Python modules that register custom layers, loaded only when the user allows it.

A spec is data that people download and share, so loading Python code from it must be explicit,
as Keras's safe_mode: the spec names the modules and the command line allows them.

    plugins: [lab_layers]            # in the spec
    modelspec train spec.yaml --allow-plugins

A plugin module registers layer types exactly as modelspec's own layer files do
(`@modelspec.layers.base.register` on a LayerConfig subclass).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from modelspec.errors import Problem
from modelspec.source import Located

_LOADED: set[str] = set()


def load_plugins(located: Located, *, allowed: bool) -> list[Problem]:
    """Import the spec's `plugins:` when allowed; else a problem saying how to allow them."""
    names = located.data.get("plugins") if isinstance(located.data, dict) else None
    if not names or not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return []  # absent, or malformed: the spec's validation reports it
    if not allowed:
        listed = ", ".join(names)
        return [located.problem(
            f"this spec loads Python code from plugins ({listed}); run the command with --allow-plugins "
            "if you trust them (nothing was imported)", ("plugins",), key=True,
        )]
    problems = []
    folder = str(Path(located.file).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # plugins may live beside the spec
    new = False
    for index, name in enumerate(names):
        if name in _LOADED:
            continue
        try:
            importlib.import_module(name)
        except Exception as error:  # a plugin's own failure is reported, not raised
            problems.append(located.problem(f"cannot import plugin '{name}': {type(error).__name__}: {error}", ("plugins", index)))
            continue
        _LOADED.add(name)
        new = True
    if new:
        from modelspec.spec import refresh_layer_types

        refresh_layer_types()
    return problems
