"""The first stage of checking a spec: located data -> pydantic Spec (with its plugins loaded).

Every problem is collected and reported as FILE:LINE:COL: message, pointing at the YAML
value (or key) at fault, with what was received, what was expected and a did-you-mean.
The later stages are the graph (modelspec.graph) and the training plan (modelspec.plan);
modelspec.checked.check_spec runs them all.

A spec that fails is still validated part by part, so that the later stages check what passed
(`validate_parts`): each error's location names the smallest part it makes unknown (a layer entry,
an input, the outputs, a model under `models:`, a top-level section such as `compile:`), that part
is stood in by a value that validates (a `{reuse: ...}` entry, `{shape: []}`, `{sequential: []}`,
or nothing) and the same validator runs again on the result. The Spec then holds stand-ins at the
`unknown` paths, which the later stages read from the located data instead (a layer that failed
keeps its name and inputs: modelspec.graph.UnknownLayer). A spec that validates takes one
validation, as before.

Example:
    spec, located = load_spec("specs/mnist_mlp.yaml")   # raises SpecError listing every problem
    validated = load_parts("broken.yaml")                # validated.problems, validated.unknown: {("layers", 2), ("fit",)}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modelspec.errors import Problem, SpecError
from modelspec.schema.messages import map_validation_error
from modelspec.source import Located, load_file
from modelspec.spec import ModelBody, Spec

#: Where a failed part's stand-in goes: deleted (a section, or a key that is itself invalid).
_DELETE = object()
#: The stand-in of each kind of part: a value that validates whatever the layer types and sections are.
_STAND_INS: dict[str, Any] = {
    "entry": {"reuse": "unknown_layer"}, "input": {"shape": []}, "outputs": "unknown_output", "model": {"sequential": []}, "section": _DELETE,
}
_ENTRY_LISTS = ("sequential", "layers")


@dataclass(frozen=True)
class Validated:
    """A spec validated as far as it goes: every problem found, and the Spec of the parts that passed.

    `unknown` holds the paths of the parts that failed: a layer entry `("layers", 3)`, an input
    `("inputs", "a")`, `("outputs",)`, a model `("models", "enc")` or a section `("compile",)`. The Spec holds
    stand-ins there, which later stages must not read. `spec` is None when the model itself cannot be
    read (its structure is broken, or its plugins failed). A spec without problems has no unknown part.
    """

    located: Located
    spec: Spec | None
    problems: tuple[Problem, ...] = ()
    unknown: frozenset[tuple] = frozenset()


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


def validate_parts(located: Located, *, allow_plugins: bool = False) -> Validated:
    """Validate located data as a Spec (loading its plugins if allowed); when it fails, the parts that pass."""
    from modelspec.plugins import load_plugins
    from modelspec.schema import build

    problems = load_plugins(located, allowed=allow_plugins)
    if problems:
        return Validated(located, None, tuple(problems))
    build.use_types(_type_names(located.data), callbacks=_has_callbacks(located.data))
    context: dict = {}
    try:
        return Validated(located, build.validate_spec(located.data, context=context))
    except ValidationError as error:
        return _Parts(located).validate(error, context)


def validate_located(located: Located, *, allow_plugins: bool = False) -> Spec:
    """Validate located data as a Spec (loading its plugins if allowed); SpecError with every located problem."""
    validated = validate_parts(located, allow_plugins=allow_plugins)
    if validated.problems or validated.spec is None:
        raise SpecError(validated.problems)
    return validated.spec


def load_parts(path: str | Path, *, allow_plugins: bool = False) -> Validated:
    """Load a spec file and validate it as far as it goes (SpecError only for the file or its YAML)."""
    return validate_parts(load_file(path), allow_plugins=allow_plugins)


def load_spec(path: str | Path, *, allow_plugins: bool = False) -> tuple[Spec, Located]:
    located = load_file(path)
    return validate_located(located, allow_plugins=allow_plugins), located


class _Parts:
    """Validates a failing spec part by part: stands in what failed and validates again, until it passes."""

    def __init__(self, located: Located):
        self.located = located
        self.data = located.data if isinstance(located.data, dict) else {}
        self.problems: list[Problem] = []
        self.unknown: dict[tuple, str] = {}  # path -> kind of part
        self.suspect: set[tuple] = set()  # bodies with an unknown key: their structure errors may be its consequence

    def validate(self, error: ValidationError, context: dict) -> Validated:
        """Record `error` (the whole spec's), then validate with stand-ins until the rest passes (or the model is unknown)."""
        from modelspec.schema import build

        self.problems += map_validation_error(error, self.located, context)
        self.mark(error.errors())
        models = self.data.get("models")
        for _ in range(len(models) + 2 if isinstance(models, dict) else 2):  # each round stands in one more body at least
            if () in self.unknown:
                break
            try:
                spec = build.validate_spec(_stood_in(self.data, {path: _STAND_INS[kind] for path, kind in self.unknown.items()}))
            except ValidationError as again:
                if not self.report(again):
                    break
                continue
            return Validated(self.located, spec, tuple(self.problems), frozenset(self.unknown))
        return Validated(self.located, None, tuple(self.problems), frozenset(self.unknown))

    def report(self, error: ValidationError) -> bool:
        """Report and mark the new problems of a round with stand-ins (a model's structure, checked once its
        fields pass), but not a suspect body's structure; False when nothing new was found."""
        fresh = [item for item in error.errors() if self.part(tuple(item["loc"]))[1] not in self.unknown]
        shown = [item for item in fresh if not self.consequence(tuple(item["loc"]))]
        if shown:
            try:
                error = ValidationError.from_exception_data(error.title, [_detail(item) for item in shown])
            except (KeyError, TypeError, ValueError):  # an error type pydantic_core cannot rebuild: report the round whole
                pass
            self.problems += map_validation_error(error, self.located, {})
        self.mark(fresh)
        return bool(fresh)

    def consequence(self, loc: tuple) -> bool:
        """Whether the error at `loc` is the structure of a body with an unknown key (perhaps its misspelled section)."""
        body, path, _kind = self.part(loc)
        return path == body and body in self.suspect

    def mark(self, items: list[Any]) -> None:
        for item in items:
            _body, path, kind = self.part(tuple(item["loc"]))
            self.unknown.setdefault(path, kind)

    def part(self, loc: tuple) -> tuple[tuple, tuple, str]:
        """(body, path of the part, kind of part) that an error at `loc` makes unknown."""
        models = self.data.get("models")
        if loc[:1] == ("models",) and len(loc) >= 2 and isinstance(models, dict) and loc[1] in models:
            body, rest, fields = loc[:2], loc[2:], ModelBody.model_fields
        else:
            body, rest, fields = (), loc, Spec.model_fields
        if not rest:
            return body, body, "model"  # the body itself: its structure, or not a mapping
        head = rest[0]
        if head == "[key]":
            return body, body, "section"  # a model's name that is not valid: removed
        if head in _ENTRY_LISTS and len(rest) >= 2 and isinstance(rest[1], int):
            return body, (*body, head, rest[1]), "entry"
        if head == "inputs" and len(rest) >= 2:
            return body, (*body, "inputs", rest[1]), "section" if rest[2:3] == ("[key]",) else "input"
        if head == "outputs":
            return body, (*body, "outputs"), "outputs"
        if head in ("sequential", "layers", "inputs"):
            return body, body, "model"  # the list or mapping itself
        if head not in fields:
            self.suspect.add(body)  # an unknown key: perhaps a misspelled section of the body
        return body, (*body, head), "section"


def _detail(item: Any) -> Any:
    """One item of ValidationError.errors() as pydantic_core's InitErrorDetails, to report it alone."""
    return {key: item[key] for key in ("type", "loc", "input", "ctx") if key in item}


def _stood_in(data: dict, replacements: dict[tuple, Any]) -> dict:
    """A copy of `data` with the value at each path replaced (or deleted: _DELETE), copying only the containers
    on the way; a path inside another one replaced is left to it."""
    tree: dict = {}
    for path in sorted(replacements, key=len):
        node: Any = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if isinstance(node, _Leaf):
                break
        else:
            if path:
                node[path[-1]] = _Leaf(replacements[path])
    return _apply(data, tree)


@dataclass(frozen=True)
class _Leaf:
    value: Any


def _apply(data: dict | list, tree: dict) -> dict | list:
    """`data` copied, with the changes of `tree` (nested by path) made."""
    copy: Any = list(data) if isinstance(data, list) else dict(data)
    for key, change in tree.items():
        if isinstance(change, _Leaf):
            if change.value is not _DELETE:
                copy[key] = change.value
            elif isinstance(copy, dict):
                copy.pop(key, None)
        elif _has(data, key) and isinstance(data[key], (dict, list)):
            copy[key] = _apply(data[key], change)
    return copy


def _has(data: dict | list, key: Any) -> bool:
    return key in data if isinstance(data, dict) else isinstance(key, int) and 0 <= key < len(data)


__all__ = ["Validated", "load_parts", "load_spec", "validate_located", "validate_parts"]
