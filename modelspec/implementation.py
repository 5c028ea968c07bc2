"""Implementation references: how a torch-free config names the torch code that runs it.

A registered config kind (an optimizer, a regularizer, a constraint) records its implementation as a
"module:attribute" string, so the config module never imports torch and never imports the module
that does. The runtime side resolves the string when it builds:

    resolve("modelspec.optimizers.runtime:KerasSGD")   # the class, its module imported now

No eval, no globals(): an import of the named module and one attribute of it.
"""

from __future__ import annotations

import importlib
from typing import Any


def check_reference(reference: str) -> str:
    """`reference` if it has the "package.module:attribute" form; ValueError otherwise (at registration)."""
    module, colon, attribute = reference.partition(":")
    if not (colon and module and attribute.isidentifier() and all(part.isidentifier() for part in module.split("."))):
        raise ValueError(f"an implementation reference is 'package.module:attribute', received {reference!r}")
    return reference


def resolve(reference: str) -> Any:
    """The attribute a "module:attribute" reference names, importing its module."""
    module, _, attribute = check_reference(reference).partition(":")
    found = getattr(importlib.import_module(module), attribute, None)
    if found is None:
        raise ImportError(f"{module} has no {attribute!r} (the implementation {reference!r})")
    return found
