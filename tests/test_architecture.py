"""The structure docs/architecture.md describes, enforced.

- no import cycle among the project's modules, counting imports inside functions (only those under
  `if TYPE_CHECKING:` are left out): the pipeline flows one way;
- the torch-free side of every concept (configs, the spec, the checked spec, validate, summary) imports
  neither torch nor click, in a fresh process;
- modelspec/ never imports click: the library returns data and raises typed errors, the CLI renders;
- no concept lives in two same-named modules of the library.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGES = {"modelspec": ROOT / "modelspec", "modelspec_cli": ROOT / "modelspec_cli"}

#: Modules that make up the torch-free stages and the config side of each concept.
TORCH_FREE = [
    "modelspec.source", "modelspec.validate", "modelspec.spec", "modelspec.graph", "modelspec.plan", "modelspec.checked",
    "modelspec.summary", "modelspec.resources", "modelspec.diagram", "modelspec.catalog", "modelspec.schema", "modelspec.schema.messages",
    "modelspec.losses", "modelspec.losses.config", "modelspec.metrics", "modelspec.metrics.config",
    "modelspec.optimizers", "modelspec.optimizers.config", "modelspec.regularizers", "modelspec.regularizers.config",
    "modelspec.callbacks", "modelspec.callbacks.config", "modelspec.data.config", "modelspec.data.arrays",
    "modelspec.layers", "modelspec.layers.base", "modelspec.layers.dense", "modelspec.layers.conv2d", "modelspec.layers.lstm",
    "modelspec.layers.model", "modelspec.identifiers", "modelspec.implementation", "modelspec.files", "modelspec.paths", "modelspec.training.history",
]


def project_modules() -> dict[str, Path]:
    modules = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:` blocks, which never run."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return skipped


def imported_names(module: str, path: Path) -> Iterator[str]:
    """Every module name an import statement of `module` names, at any depth (relative imports made absolute)."""
    tree = ast.parse(path.read_text())
    skipped = type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (a name resolved to its longest project-module prefix)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles_even_through_imports_inside_functions():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_library_never_imports_click():
    offenders = sorted(module for module, targets in import_graph().items() if module.startswith("modelspec.") or module == "modelspec"
                       for name in imported_names(module, project_modules()[module]) if name.split(".")[0] == "click")
    assert offenders == []


def test_the_library_never_imports_the_cli():
    graph = import_graph()
    library = [m for m in graph if m.split(".")[0] == "modelspec" and m != "modelspec.__main__"]  # `python -m modelspec` runs the CLI
    assert sorted(m for m in library if any(t.startswith("modelspec_cli") for t in graph[m])) == []


@pytest.mark.parametrize("module", TORCH_FREE)
def test_torch_free_modules_import_neither_torch_nor_click(module):
    code = f"import sys, {module}; print(sorted(m for m in ('torch', 'click') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"{module} imports {result.stdout.strip()}"


def test_no_concept_lives_in_two_same_named_library_modules():
    """A module's name says its concept: outside the config/runtime pair inside a concept's package, and the
    layer-config / torch-module pair of layers/ and nn/, no two library modules share a name."""
    paired = {"__init__", "__main__", "config", "runtime"}
    seen: dict[str, list[str]] = {}
    for module, path in project_modules().items():
        if not module.startswith("modelspec.") or path.stem in paired or module.startswith(("modelspec.layers.", "modelspec.nn.")):
            continue
        seen.setdefault(path.stem, []).append(module)
    assert {name: found for name, found in seen.items() if len(found) > 1} == {}


def test_every_package_is_in_the_distribution():
    """pyproject's package discovery takes every folder of modelspec/ and modelspec_cli/ holding an __init__.py."""
    import tomllib

    from setuptools import find_packages

    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    folders = {".".join(path.parent.relative_to(ROOT).parts) for package in PACKAGES.values() for path in package.rglob("__init__.py")}
    assert set(find_packages(str(ROOT), include=include)) == folders
