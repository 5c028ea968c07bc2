"""The checked spec: the one way from a spec file to what every command starts from. No torch.

The stages run one way, each on the previous one's result, and every problem is located
(FILE:LINE:COL) and collected:

    text -> located data (modelspec.source, --set overrides applied: modelspec.overrides)
         -> Spec (modelspec.validate: pydantic, plugins)
         -> Graph (modelspec.graph: names, references, shapes, weights, nested models)
         -> TrainingPlan (modelspec.plan: losses, metrics, optimizer, fit and callbacks checked)

Training, evaluation, prediction, export and interop start from a CheckedSpec; the torch side
(modelspec.torch_build, modelspec.training) never re-checks it.

Example:
    checked = check_spec("specs/mnist_mlp.yaml", ["fit.epochs=1"])   # SpecError listing every problem
    checked.graph.total_params, checked.plan.logged_names()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from modelspec.graph import Graph, resolve
from modelspec.overrides import apply_overrides
from modelspec.plan import TrainingPlan, plan_training
from modelspec.source import Located, load_file
from modelspec.spec import Spec
from modelspec.validate import load_spec, validate_located


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

    Raises SpecError with every problem of the first stage that has any (YAML, schema, graph, plan)."""
    loaded = source if isinstance(source, Located) else load_file(source)
    located = apply_overrides(loaded, list(overrides)) if overrides else loaded
    spec = validate_located(located, allow_plugins=allow_plugins)
    graph = resolve(spec, located, lambda path: load_spec(path, allow_plugins=allow_plugins))
    plan = plan_training(spec, graph, located)
    return CheckedSpec(Path(located.file), located, spec, graph, plan, list(overrides))
