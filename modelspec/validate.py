"""The first stage of checking a spec: located data -> pydantic Spec (with its plugins loaded).

Every problem is collected and reported as FILE:LINE:COL: message, pointing at the YAML
value (or key) at fault, with what was received, what was expected and a did-you-mean.
The later stages are the graph (modelspec.graph) and the training plan (modelspec.plan);
modelspec.checked.check_spec runs them all.

Example:
    spec, located = load_spec("specs/mnist_mlp.yaml")   # raises SpecError listing every problem
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modelspec.errors import SpecError
from modelspec.schema.messages import map_validation_error
from modelspec.source import Located, load_file
from modelspec.spec import Spec


def _type_names(data: Any) -> set[Any]:
    """Every `type:` value anywhere in the data (layer types among them), without recursion."""
    names, pending = set(), [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            kind = item.get("type")
            if isinstance(kind, str):
                names.add(kind)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return names


def _has_callbacks(data: Any) -> bool:
    """Whether the spec has a `fit.callbacks` key (whatever its value: a wrong one gets the usual error)."""
    fit = data.get("fit") if isinstance(data, dict) else None
    return isinstance(fit, dict) and "callbacks" in fit


def validate_located(located: Located, *, allow_plugins: bool = False) -> Spec:
    """Validate located data as a Spec (loading its plugins if allowed); SpecError with every located problem."""
    from modelspec.plugins import load_plugins
    from modelspec.schema import build

    problems = load_plugins(located, allowed=allow_plugins)
    if problems:
        raise SpecError(problems)
    build.use_types(_type_names(located.data), callbacks=_has_callbacks(located.data))
    context: dict = {}
    try:
        return build.validate_spec(located.data, context=context)
    except ValidationError as error:
        raise SpecError(map_validation_error(error, located, context)) from None


def load_spec(path: str | Path, *, allow_plugins: bool = False) -> tuple[Spec, Located]:
    located = load_file(path)
    return validate_located(located, allow_plugins=allow_plugins), located
