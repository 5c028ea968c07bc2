"""Every registered layer type runs through the shared harness (tests/layer_harness.py)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

from modelspec.layers import load_all_layers
from tests.helpers import SPECS

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


#: In a fresh interpreter: check every example spec, ask each layer (and each wrapped one) for its
#: module record, and report what was made, and whether torch was imported on the way.
RECORDS = '''
import json, sys
from pathlib import Path
from modelspec.checked import check_spec
from modelspec.layers.base import ModuleRecord

def records(value):
    if isinstance(value, ModuleRecord):
        yield value
        for item in (*value.args, *value.kwargs.values()):
            yield from records(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from records(item)

targets = set()
for spec in sorted(Path(sys.argv[1]).glob("*.yaml")):
    for layer in check_spec(spec).graph.layers.values():
        targets |= {r.target for r in records(layer.config.module(layer.nodes[0].input_shapes))}
print(json.dumps({"targets": sorted(targets), "torch": "torch" in sys.modules}))
'''


def test_layer_configs_describe_their_modules_without_importing_torch() -> None:
    """A layer's module is data (import path and arguments): making the records of every example imports no torch."""
    found = subprocess.run([sys.executable, "-c", RECORDS, str(SPECS)], capture_output=True, text=True, timeout=120, check=False)
    assert found.returncode == 0, found.stderr[-3000:]
    result = json.loads(found.stdout)
    assert result["torch"] is False
    assert "modelspec.nn.dense:KerasDense" in result["targets"] and "modelspec.nn.lstm:KerasLSTM" in result["targets"]
    assert all(target.count(":") == 1 and target.startswith(("modelspec.nn.", "torch.nn:")) for target in result["targets"])
