"""Starter specs for `modelspec init`: commented YAML files shipped as package data.

Each template validates and trains as it is: on the handwritten digits that ship with modelspec
(`{dataset: digits}`) where the model's shapes fit them, else on random arrays shaped from the
model (`{synthetic: {samples: N}}`).

Example:
    text = template_text("cnn")        # the YAML text of templates/cnn.yaml
"""

from __future__ import annotations

import re
from importlib import resources

#: Template name -> file in this package.
TEMPLATES = {
    "mlp": "mlp.yaml",
    "cnn": "cnn.yaml",
    "lstm": "lstm.yaml",
    "functional": "functional.yaml",
    "multi-io": "multi_io.yaml",
}

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def template_text(name: str, *, model_name: str | None = None) -> str:
    """The template's YAML; `model_name` (an identifier) replaces its `name:`."""
    text = (resources.files(__package__) / TEMPLATES[name]).read_text(encoding="utf-8")
    if model_name is not None and _IDENTIFIER.match(model_name):
        text = re.sub(r"^name: \S+", f"name: {model_name}", text, count=1, flags=re.MULTILINE)
    return text
