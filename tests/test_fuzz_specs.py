"""Property-based: mutated example specs are either accepted or rejected with SpecError, never anything else.

Mutations: drop a key, swap a value for a wrong type or an extreme number, rename a key, reorder
layers, nest a value. A longer run: `MODELSPEC_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz_specs.py`.
"""

from __future__ import annotations

import copy
import math
import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelspec.checked import check_spec
from modelspec.errors import SpecError
from modelspec.source import load_text
from tests.helpers import SPECS

EXAMPLES = int(os.environ.get("MODELSPEC_FUZZ_EXAMPLES", "60"))
BASES = {path.name: load_text(path.read_text(), path.name).data for path in sorted(SPECS.glob("*.yaml"))}
ODD_VALUES = [
    None, True, False, 0, -1, 1, 2**31, 2**63, -(2**63), 10**30, 0.0, -0.5, 1e308, math.inf, -math.inf, math.nan,
    "", "x", "Dense", "relu", "dense@7", "dense[3]", "a" * 300, "../../etc/passwd", "!!python/object", [], [1, 2], [None],
    {}, {"type": "Dense"}, {"units": 3}, {"reuse": "dense"}, {"model": "nope"},
]


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, (*prefix, index))
    return found


def parent_of(data: Any, path: tuple) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated_specs(draw) -> str:
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    for _ in range(draw(st.integers(1, 4))):
        candidates = paths(data)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent, last = parent_of(data, path), path[-1]
        kind = draw(st.sampled_from(["drop", "replace", "rename", "reorder", "nest"]))
        if kind == "drop":
            del parent[last]
        elif kind == "replace":
            parent[last] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["unitz", "inputs", "type", "name", "x", "reuse", "layer", "model"]))] = parent.pop(last)
        elif kind == "reorder" and isinstance(parent[last], list):
            parent[last] = draw(st.permutations(parent[last]))
        elif kind == "nest":
            parent[last] = [parent[last]] if draw(st.booleans()) else {"type": parent[last]}
    return yaml.safe_dump(data, sort_keys=False)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_mutated_specs_are_accepted_or_rejected_with_spec_error(text):
    try:
        check_spec(load_text(text, "mutated.yaml"))
    except SpecError as error:
        assert error.problems and all(p.message for p in error.problems)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_spec_errors(blob):
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        check_spec(load_text(text, "bytes.yaml"))
    except SpecError:
        pass
