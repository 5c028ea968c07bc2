"""Every registered layer type runs through the shared harness (tests/layer_harness.py)."""

from __future__ import annotations

import importlib
from pathlib import Path

from modelspec.layers import load_all_layers

LAYERS = load_all_layers()

#: Layer types tested elsewhere, with the reason.
COVERED_ELSEWHERE = {
    "Model": "needs a resolved graph bound to it (tests/test_examples.py, tests/test_training.py)",
    "Input": "declares a sequential model's input and makes no node (tests/test_masks_and_inputs.py)",
}


def all_cases() -> list:
    cases = []
    for path in sorted(Path(__file__).parent.glob("test_layers*.py")):
        cases += getattr(importlib.import_module(f"tests.{path.stem}"), "CASES", [])
    return cases


def test_every_layer_type_has_a_harness_case() -> None:
    covered = {case.config["type"] for case in all_cases()} | set(COVERED_ELSEWHERE)
    missing = sorted(set(LAYERS) - covered)
    assert not missing, f"add harness cases for {missing}"
