"""The spec's pydantic schema, built from the registries: the one module that builds, rebuilds and caches it.

    build.use_types(["Dense", "Dropout"])            # import those layer modules (a spec's types, not the catalog)
    build.use_types(names, callbacks=True)           # ... and the callback types (a spec with fit.callbacks)
    spec = build.validate_spec(data, context={})     # a Spec, or pydantic's ValidationError
    build.refresh()                                  # after plugins registered layer types

A registry enters the schema as a Kind (modelspec.schema.fields): a field type whose schema is made from
the registry's members when a schema is built. The layer list, a wrapper's `layer` and `fit.callbacks`
are such fields. When a Kind's members change, the classes already built from the old members are
rebuilt with pydantic's `model_rebuild(force=True)`, innermost first; the spec validator is a
`TypeAdapter(Spec)`'s, restored from modelspec.schema.cache when a process with the same registries
and modelspec files built it before (specs whose plugins register layer types are not cached).

Adding a registry to the schema: declare `KIND = Kind(name, registry, make)` beside its configs, use
`KIND.field` as the field's type; its names enter the cache key and its growth triggers the rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, get_args

from pydantic import BaseModel, GetPydanticSchema, TypeAdapter
from pydantic_core import SchemaValidator

from modelspec import layers
from modelspec.schema import cache, fields
from modelspec.spec import Spec
from modelspec.training_spec import CALLBACK_TYPES

#: The registries' state the built classes and `_validator` were made from (None: not yet).
_built: Any = None
_validator: SchemaValidator | None = None


def use_types(layer_types: Iterable[Any] = (), *, callbacks: bool = False) -> None:
    """Make the schema know the layer types in `layer_types` (importing only their modules), and the
    callback types if `callbacks`; names of no layer type are skipped (validation reports them)."""
    layers.load_layer_types(layer_types)
    if callbacks:
        CALLBACK_TYPES.include()
    refresh()


def refresh() -> None:
    """Rebuild the classes built from older registries (layer modules or plugins registered more types)."""
    global _built, _validator
    now = fields.state()
    if now == _built:
        return
    for cls in dependents():
        if cls.__pydantic_complete__:  # built before: its schema holds the old members (and classes built after reuse it)
            cls.model_rebuild(force=True)
    _built, _validator = now, None


def validate_spec(data: Any, *, context: dict | None = None) -> Spec:
    """`Spec.model_validate(data, context=context)` with the validator of the current registries."""
    return spec_validator().validate_python(data, context=context)


def spec_validator() -> SchemaValidator:
    """The validator of Spec for the current registries: built once per process, or restored from the cache."""
    global _validator
    refresh()
    if _validator is None:
        key = cache_key()
        restored = None if key is None else cache.restore("spec", key)
        if restored is None:
            restored = _build_validator()
            if key is not None:
                cache.store("spec", key, restored)
        _validator = restored
    return _validator


def _build_validator() -> SchemaValidator:
    adapter = TypeAdapter(Spec)
    if not isinstance(adapter.validator, SchemaValidator):  # deferred: pydantic >= 2.10 honours Spec's defer_build
        adapter.rebuild(force=True)
    return adapter.validator


def cache_key() -> str | None:
    """The schema cache's key for the current registries; None when a member class is not modelspec's (a plugin's)."""
    parts = []
    for name, kind in fields.KINDS.items():
        if any(not cls.__module__.startswith("modelspec.") for cls in kind.classes()):
            return None
        state = kind.state()
        parts.append(f"{name}: {'off' if state is None else ' '.join(state)}")
    return cache.cache_key(parts)


def dependents() -> list[type[BaseModel]]:
    """The classes whose schemas hold a Kind's members, innermost first: Kind members that hold one (the
    wrappers, twice: each holds the others), then the spec's sections and Spec."""
    members: list[type[BaseModel]] = []
    containers: list[type[BaseModel]] = []
    seen: set[int] = set()
    for kind in fields.KINDS.values():
        for cls in kind.classes():
            _walk(cls, seen, members)
    _walk(Spec, seen, containers)
    return [*members, *members, *[cls for cls in containers if cls not in members]]


def _walk(cls: type[BaseModel], seen: set[int], found: list[type[BaseModel]]) -> bool:
    """Whether `cls`'s schema holds a Kind's members; those that do are appended to `found` (post-order)."""
    if id(cls) in seen:
        return cls in found
    seen.add(id(cls))
    holds = False
    for field in cls.model_fields.values():
        for item in _types_in([field.annotation, *field.metadata]):
            if isinstance(item, GetPydanticSchema) and _is_kind_hook(item):
                holds = True
            elif isinstance(item, type) and issubclass(item, BaseModel):
                holds = _walk(item, seen, found) or holds
    if holds:
        found.append(cls)
    return holds


def _is_kind_hook(item: GetPydanticSchema) -> bool:
    return getattr(item.get_pydantic_core_schema, "kind", None) in fields.KINDS.values()


def _types_in(items: Iterable[Any]) -> Iterator[Any]:
    """Every type and Annotated metadata item inside `items` (`list[X | None]` gives list, X, None, ...)."""
    for item in items:
        yield item
        if getattr(item, "__metadata__", None) is not None:  # Annotated[...]
            yield from _types_in(item.__metadata__)
        yield from _types_in(get_args(item))


__all__ = ["cache_key", "dependents", "refresh", "spec_validator", "use_types", "validate_spec"]
