"""Keras identifiers: a kind a spec picks by name or by config mapping (a loss, a metric), as a pydantic field type.

    loss: mse                              # a name (aliases included)
    loss: {type: huber, delta: 2.0}        # a mapping, validated against the config class of its `type`

`name_or_config(kind, configs)` builds that type from a registry's name -> config class mapping;
unknown names get a did-you-mean, and a mapping's errors are located like a discriminated union's.
No torch here: used while validating specs.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import BaseModel, BeforeValidator, Discriminator, Tag
from pydantic_core import PydanticCustomError

from modelspec.config import StrictModel
from modelspec.errors import did_you_mean, format_choices


def _check_known(kind: str, configs: dict[str, type[StrictModel]], value: Any) -> Any:
    """`value` unchanged if it names one of `configs` (as a string or a mapping's `type`); else a did-you-mean error."""
    names = tuple(configs)
    name = value.get("type") if isinstance(value, dict) else value
    if isinstance(value, dict) and "type" not in value:
        raise PydanticCustomError(
            f"{kind}_type_missing",
            "A {kind} given as a mapping needs a 'type' key, one of: {choices}",
            {"kind": kind, "choices": format_choices(names, limit=len(names))},
        )
    if isinstance(name, str) and name not in configs:
        raise PydanticCustomError(
            f"unknown_{kind}",
            "Unknown {kind} '{received}'{hint}; expected one of: {choices}",
            {"kind": kind, "received": name, "hint": did_you_mean(name, names),
             "choices": format_choices(names, limit=len(names))},
        )
    return value


def _name_or_config_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return "name"
    if isinstance(value, dict):
        return value.get("type")
    return getattr(value, "type", None) if isinstance(value, BaseModel) else None


def name_or_config(kind: str, configs: dict[str, type[StrictModel]]) -> Any:
    """The pydantic type of a `kind` written as a name or as a config mapping keyed by `type`.

    Names stay strings; mappings validate against the config class of their `type`, and their
    errors are located like a discriminated union's (`('loss', 'huber', 'delt')`). Unknown names
    get a did-you-mean. (Module-level functions, not closures: a schema can be pickled.)
    """
    members = [Annotated[Literal[tuple(configs)], Tag("name")]]  # type: ignore[valid-type]
    members += [Annotated[cls, Tag(name)] for name, cls in configs.items()]
    return Annotated[
        Union[tuple(members)],  # type: ignore[valid-type]  # noqa: UP007 (a runtime-built union)
        Discriminator(
            _name_or_config_tag,
            custom_error_type=f"{kind}_type",
            custom_error_message=f"Expected a {kind} name or a mapping with a 'type' key",
        ),
        BeforeValidator(functools.partial(_check_known, kind, configs)),
    ]


def literal_names(cls: type[BaseModel]) -> tuple[str, ...]:
    """The names a config class's `type: Literal[...]` field accepts."""
    return get_args(cls.model_fields["type"].annotation)
