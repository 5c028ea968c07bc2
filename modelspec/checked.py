"""The checked spec: the one way from a spec file to what every command starts from. No torch.

The stages run one way, each on the previous one's result, and every problem is located
(FILE:LINE:COL) and collected:

    text -> located data (modelspec.source, --set overrides applied: modelspec.overrides)
         -> Spec (modelspec.validate: pydantic, plugins)
         -> Graph (modelspec.graph: names, references, shapes, weights, nested models)
         -> TrainingPlan (modelspec.plan: losses, metrics, optimizer, fit and callbacks checked)

Every problem that can be found is found in one run: when a stage finds problems, the later ones
still check the parts that passed it (a layer that failed validation still resolves by name, with an
unknown shape, and what depends only on unknown shapes or failed sections is not checked, so that
one mistake is one problem). The problems come sorted by file, line and column, each once.

Training, evaluation, prediction, export and interop start from a CheckedSpec; the torch side
(modelspec.torch_build, modelspec.training) never re-checks it.

Example:
    checked = check_spec("specs/mnist_mlp.yaml", ["fit.epochs=1"])   # SpecError listing every problem
    checked.graph.total_params, checked.plan.logged_names()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from modelspec.errors import Problem, SpecError
from modelspec.graph import Graph, resolve_parts
from modelspec.object_forms import object_forms
from modelspec.overrides import apply_overrides
from modelspec.plan import TrainingPlan, plan_parts
from modelspec.source import Located, load_file
from modelspec.spec import Spec
from modelspec.validate import Validated, load_parts, validate_parts


@dataclass
class CheckedSpec:
    """A spec that passed every check: the spec, its graph and training plan, and where it lives."""

    path: Path
    located: Located
    spec: Spec
    graph: Graph
    plan: TrainingPlan
    overrides: list[str] = field(default_factory=list)

    @property
    def base_dir(self) -> Path:
        """The spec's folder: data and weights paths in it are relative to it."""
        return self.path.parent


def check_spec(source: str | Path | Located, overrides: list[str] | tuple[str, ...] = (), *, allow_plugins: bool = False) -> CheckedSpec:
    """Load (a file, or located data already loaded), apply --set overrides, validate, resolve and plan a spec.

    Raises SpecError with every problem of every stage (YAML aside: a file that does not parse stops there)."""
    loaded = source if isinstance(source, Located) else load_file(source)
    located = apply_overrides(loaded, list(overrides), object_forms=object_forms()) if overrides else loaded
    validated = validate_parts(located, allow_plugins=allow_plugins)
    graph, plan, problems = _later_stages(validated, allow_plugins=allow_plugins)
    if problems or validated.spec is None or graph is None or plan is None:
        raise SpecError(_in_order(problems))
    return CheckedSpec(Path(located.file), located, validated.spec, graph, plan, list(overrides))


def _later_stages(validated: Validated, *, allow_plugins: bool) -> tuple[Graph | None, TrainingPlan | None, list[Problem]]:
    """The graph and plan of what validated, with every problem found on the way (validation's first)."""
    problems = list(validated.problems)
    if validated.spec is None:
        return None, None, problems
    graph, found = resolve_parts(validated, lambda path: load_parts(path, allow_plugins=allow_plugins))
    problems += found
    if graph is None:
        return None, None, problems
    plan, found = plan_parts(validated.spec, graph, validated.located, validated.unknown)
    return graph, plan, problems + found


def _in_order(problems: list[Problem]) -> list[Problem]:
    """Each problem once, sorted by file, line and column (the order found where they tie)."""
    unique = dict.fromkeys(problems)  # Problem is a frozen dataclass: equal file, line, column and message
    return sorted(unique, key=lambda p: (p.file or "", p.line or 0, p.column or 0))
