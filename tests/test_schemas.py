"""The spec schema is built from the registries by modelspec.schema.build alone, through pydantic's public API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
from pydantic import TypeAdapter, ValidationError

from modelspec import layers
from modelspec.layers.base import LayerConfig, Shape
from modelspec.schema import build, fields
from modelspec.spec import ModelBody, Spec
from modelspec.training_spec import CALLBACK_TYPES, FitConfig
from tests.helpers import SPECS

PACKAGE = Path(__file__).resolve().parent.parent / "modelspec"


class Tripler(LayerConfig):
    """A layer type registered after the spec's classes were built (as a plugin's is)."""

    type: Literal["Tripler"]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape


def wrapped(inner: dict) -> dict:
    return {"sequential": [{"type": "Dense", "units": 2, "input_dim": 3}, {"type": "TimeDistributed", "layer": inner}]}


def test_a_type_registered_later_reaches_the_classes_built_before(monkeypatch):
    from modelspec.layers.time_distributed import TimeDistributed

    build.use_types(["Dense", "TimeDistributed"])
    TimeDistributed.model_validate({"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}})  # built on its own
    Spec.model_validate(wrapped({"type": "Dense", "units": 2}))
    with pytest.raises(ValidationError, match="Tripler"):
        build.validate_spec(wrapped({"type": "Tripler"}))
    with monkeypatch.context() as patch:
        patch.setitem(layers.LAYERS, "Tripler", Tripler)
        build.refresh()
        for validate in (Spec.model_validate, build.validate_spec):
            entry = validate(wrapped({"type": "Tripler"})).entries[1]
            assert isinstance(entry.layer, Tripler)
        assert isinstance(TimeDistributed.model_validate({"type": "TimeDistributed", "layer": {"type": "Tripler"}}).layer, Tripler)
        assert build.cache_key() is None  # a class from outside modelspec: not cached
    build.refresh()  # Tripler gone again
    with pytest.raises(ValidationError):
        Spec.model_validate(wrapped({"type": "Tripler"}))


def test_a_layer_field_made_later_has_the_types_registered_then(monkeypatch):
    build.use_types(["Dense"])
    monkeypatch.setitem(layers.LAYERS, "Tripler", Tripler)
    assert isinstance(TypeAdapter(layers.AnyLayer).validate_python({"type": "Tripler"}), Tripler)


def test_the_classes_to_rebuild_come_innermost_first():
    from modelspec.layers.bidirectional import Bidirectional
    from modelspec.layers.time_distributed import TimeDistributed

    build.use_types(["Bidirectional", "TimeDistributed"])
    order = build.dependents()
    for inner in (Bidirectional, TimeDistributed):
        assert order.index(inner) < order.index(ModelBody) < order.index(Spec)
    assert order.index(FitConfig) < order.index(Spec)
    assert order[-1] is Spec and LayerConfig not in order


def test_every_registry_is_in_the_cache_key(monkeypatch):
    assert set(fields.KINDS) >= {"layers", "fit.callbacks"}
    before = build.cache_key()
    monkeypatch.setitem(layers.LAYERS, "Extra", type("Extra", (), {"__module__": "modelspec.layers.extra"}))
    assert build.cache_key() not in (None, before)


def test_a_spec_without_callbacks_creates_no_callback_class():
    code = (
        "import sys\n"
        "from modelspec.validate import load_spec\n"
        "from modelspec.training_spec import CALLBACK_TYPES\n"
        f"load_spec({str(SPECS / 'digits_mlp.yaml')!r})\n"
        "print(CALLBACK_TYPES.included, any(name.startswith('modelspec.callbacks') for name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "MODELSPEC_CACHE_DIR": "off"})
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_callbacks_are_included_for_a_spec_that_has_them():
    build.use_types([], callbacks=True)
    assert CALLBACK_TYPES.included
    fit = Spec.model_validate({"sequential": [{"type": "Dense", "units": 1, "input_dim": 2}], "fit": {"callbacks": ["TerminateOnNaN"]}}).fit
    assert [type(callback).__name__ for callback in fit.callbacks] == ["TerminateOnNaN"]


#: What the schema code used to do, and must not: pydantic's internals, mutating built fields or classes' validators.
FORBIDDEN = re.compile(
    r"pydantic\._internal|__pydantic_(core_schema|validator|serializer)__\s*=|model_fields\[[^\]]+\]\.(annotation|metadata)\s*=|"
    r"sys\.modules\[[^\]]+\]\.\w+\s*="
)


def test_schemas_are_changed_only_through_public_api():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if FORBIDDEN.search(line)
    ]
    assert offenders == []
