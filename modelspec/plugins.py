"""Plugins: Python modules that register custom layers, loaded only when the user allows it.

A spec is data that people download and share, so loading Python code from it must be explicit,
as Keras's safe_mode: the spec names the modules and the command line allows them.

    plugins: [lab_layers]            # in the spec
    modelspec train spec.yaml --allow-plugins

A plugin module registers layer types exactly as modelspec's own layer files do
(`@modelspec.layers.base.register` on a LayerConfig subclass).

Exactly the listed modules are imported: `lab_layers` from `lab_layers.py` (or the package
`lab_layers/__init__.py`) beside the spec, `lab.layers` from `lab/layers.py` there (its parent
folders as packages), and only when no such file exists, an installed module of that name.
`sys.path` is never changed, so other files beside the spec (a `json.py`, a `safetensors.py`)
never stand in for installed modules. A file that would take the name of an installed module is
refused: importing it would replace that module for the whole process.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from modelspec.errors import Problem, quote, shorten
from modelspec.source import Located

_LOADED: set[str] = set()


def _is_module_name(name: str) -> bool:
    """`lab_layers`, `lab.layers`: dotted identifiers, so that no name becomes a path outside the spec's folder."""
    return all(part.isascii() and part.isidentifier() for part in name.split("."))


class PluginError(Exception):
    """A plugin that cannot be imported as listed (the reason is the message)."""


def _source(folder: Path, parts: list[str]) -> tuple[Path, bool] | None:
    """The file of module `parts` under `folder` and whether it is a package, or None when there is none."""
    base = folder.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py", True
    if base.with_name(base.name + ".py").is_file():
        return base.with_name(base.name + ".py"), False
    return None


def _check_name_free(top: str, folder: Path) -> None:
    """Refuse a plugin beside the spec named as a module imported or installed elsewhere, which it would replace."""
    module = sys.modules.get(top)
    try:
        spec = module.__spec__ if module is not None else importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        return
    places = [spec.origin if spec.has_location else None, *(spec.submodule_search_locations or [])]
    if not any(Path(place).resolve().is_relative_to(folder) for place in places if place):  # built-in modules have none
        raise PluginError(f"{folder / top} has the name of the installed module '{top}', which it would replace: rename the plugin")


def _load_file(name: str, file: Path, package: bool) -> ModuleType:
    """Import module `name` from `file` (a package's __init__.py when `package`), registered under `name`."""
    locations = [str(file.parent)] if package else None
    spec = importlib.util.spec_from_file_location(name, file, submodule_search_locations=locations)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot load {file} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _namespace(name: str, folder: Path) -> ModuleType:
    """A folder without __init__.py as a package (as Python's namespace packages), to hold a dotted plugin."""
    module = ModuleType(name)
    module.__path__ = [str(folder)]
    sys.modules[name] = module
    return module


def import_plugin(name: str, folder: Path) -> None:
    """Import plugin `name` (dotted: `lab.layers`) from its file under `folder`, else as an installed module."""
    parts = name.split(".")
    if _source(folder, parts) is None:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is None or not f"{name}.".startswith(f"{error.name}."):
                raise  # a module the plugin imports is missing
            where = folder.joinpath(*parts)
            raise PluginError(f"found neither {where}.py nor {where}/__init__.py beside the spec, "
                              f"nor an installed module '{name}'") from None
        return
    _check_name_free(parts[0], folder)
    for depth in range(1, len(parts) + 1):
        prefix = ".".join(parts[:depth])
        if prefix in sys.modules:
            continue
        found = _source(folder, parts[:depth])
        module = _load_file(prefix, *found) if found else _namespace(prefix, folder.joinpath(*parts[:depth]))
        if depth > 1:
            setattr(sys.modules[".".join(parts[: depth - 1])], parts[depth - 1], module)


def load_plugins(located: Located, *, allowed: bool) -> list[Problem]:
    """Import the spec's `plugins:` when allowed; else a problem saying how to allow them."""
    names = located.data.get("plugins") if isinstance(located.data, dict) else None
    if not names or not isinstance(names, list) or not all(isinstance(n, str) and _is_module_name(n) for n in names):
        return []  # absent, or malformed: the spec's validation reports it (nothing is imported)
    if not allowed:
        listed = shorten(", ".join(names), 200)
        return [located.problem(
            f"this spec loads Python code from plugins ({listed}); run the command with --allow-plugins "
            "if you trust them (nothing was imported)", ("plugins",), key=True,
        )]
    problems = []
    folder = Path(located.file).resolve().parent  # plugins may live beside the spec
    new = False
    for index, name in enumerate(names):
        if name in _LOADED:
            continue
        try:
            import_plugin(name, folder)
        except Exception as error:  # a plugin's own failure is reported, not raised
            reason = str(error) if isinstance(error, PluginError) else f"{type(error).__name__}: {error}"
            problems.append(located.problem(f"cannot import plugin {quote(name)}: {reason}", ("plugins", index)))
            continue
        _LOADED.add(name)
        new = True
    if new:
        from modelspec.schema import build

        build.refresh()
    return problems
