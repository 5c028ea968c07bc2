"""Registry-backed field types: a config field whose accepted types are the members of a registry.

A layer list accepts the registered layer types, `fit.callbacks` the callback types; registries grow
(a spec's layer modules are imported when it names them, plugins register more), so such a field's
pydantic schema is made from the registry when a schema is built, not when the class is written:

    LAYER_TYPES = Kind("layers", lambda: LAYERS, lambda members: tagged_union(members, entry_tag))
    AnyLayer = LAYER_TYPES.field                    # the union of what LAYERS holds when a schema is built
    class TimeDistributed(LayerConfig):
        layer: AnyLayer

Only pydantic's public API: the field is `Annotated[Any, GetPydanticSchema(...)]`, whose hook
generates the schema of `members()` (GetCoreSchemaHandler.generate_schema). A Kind's `state()` (its member
names) is what a built schema depends on; modelspec.schema.build compares it, rebuilds the classes built from
an older state (`model_rebuild(force=True)`) and keys the schema cache on it. An optional Kind
(`fit.callbacks`) stands in with `placeholder` until `include()`: specs without callbacks never
create the callback classes.

This module imports no other modelspec module: config modules declare their Kinds with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Union

from pydantic import Discriminator, GetCoreSchemaHandler, GetPydanticSchema, Tag
from pydantic_core import CoreSchema

#: Every Kind declared, by name (in declaration order).
KINDS: dict[str, Kind] = {}


class Kind:
    """A registry the spec schema is built from: field types made from its members, and their state."""

    def __init__(
        self,
        name: str,
        registry: Callable[[], Mapping[str, type]],
        make: Callable[[Mapping[str, type]], Any],
        *,
        placeholder: Any = None,
    ) -> None:
        """`registry()` gives the members by name, `make(members)` the type a field validates with;
        with a `placeholder` (validating in its stead), the Kind is off until include()."""
        self.name = name
        self.registry = registry
        self._make = make
        self.placeholder = placeholder
        self.included = placeholder is None
        self.field: Any = self.field_of(make)
        KINDS[name] = self

    def field_of(self, make: Callable[[Mapping[str, type]], Any]) -> Any:
        """A field type made by `make(members)` when a schema is built (`field` is `field_of(make)`)."""

        def core_schema(_source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
            return handler.generate_schema(make(self.registry()) if self.included else self.placeholder)

        core_schema.kind = self  # type: ignore[attr-defined]  (how modelspec.schema.build finds the classes to rebuild)
        return Annotated[Any, GetPydanticSchema(core_schema)]

    def members(self) -> Any:
        """The type `field` validates with now."""
        return self._make(self.registry()) if self.included else self.placeholder

    def state(self) -> tuple[str, ...] | None:
        """What a schema built now depends on (the member names; None while off): equal states, equal schemas."""
        return tuple(sorted(self.registry())) if self.included else None

    def classes(self) -> list[type]:
        """The member classes (none while off)."""
        return list(self.registry().values()) if self.included else []

    def include(self) -> bool:
        """Turn an optional Kind on; True if that changed it."""
        changed = not self.included
        self.included = True
        return changed


def state() -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    """The state of every Kind: a spec schema built now depends on exactly this."""
    return tuple((name, kind.state()) for name, kind in KINDS.items())


def tagged_union(members: Mapping[str, type], tag: Callable[[Any], str | None]) -> Any:
    """A pydantic tagged union over `members` (tag -> class), dispatched by `tag(value)`."""
    choices = tuple(Annotated[members[name], Tag(name)] for name in sorted(members))  # sorted: the same schema whatever the load order
    return Annotated[Union[choices], Discriminator(tag)]  # noqa: UP007 (a runtime-built union)
