"""Custom layers come only from plugins the user allows on the command line (as Keras's safe_mode)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PLUGIN = '''
"""A plugin layer: doubles its input."""
from pathlib import Path
from typing import Literal

from modelspec.layers.base import LayerConfig, module_record, register


def double():
    import torch

    class Double(torch.nn.Module):
        def forward(self, x):
            return x * 2

    return Double()

Path(__file__).with_name("imported.marker").write_text("imported")


@register
class Doubler(LayerConfig):
    type: Literal["Doubler"]

    def compute_output_shape(self, input_shape):
        return input_shape

    def module(self, input_shapes):
        return module_record(f"{__name__}:double")
'''

SPEC = """
name: with_plugin
plugins: [lab_layers]
sequential:
  - {type: Dense, units: 3, input_dim: 4}
  - {type: Doubler}
compile: {loss: mse}
fit: {epochs: 1}
data: {train: {synthetic: {samples: 16}}}
"""


def run(*args):
    return subprocess.run([sys.executable, "-m", "modelspec_cli.main", *args], capture_output=True, text=True)


def test_plugins_need_allow_plugins_and_then_work(tmp_path):
    (tmp_path / "lab_layers.py").write_text(textwrap.dedent(PLUGIN))
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    refused = run("validate", str(spec))
    assert refused.returncode == 2 and "--allow-plugins" in refused.stderr and f"{spec}:3:1:" in refused.stderr
    assert not (tmp_path / "imported.marker").exists()
    allowed = run("summary", str(spec), "--allow-plugins", "--json")
    assert allowed.returncode == 0, allowed.stderr
    assert '"type": "Doubler"' in allowed.stdout
    trained = run("train", str(spec), "--allow-plugins", "--quiet", "--run-dir", str(tmp_path / "run"), "--device", "cpu")
    assert trained.returncode == 0, trained.stderr


def test_a_failing_plugin_is_a_located_error(tmp_path):
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('boom')\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("lab_layers", "broken_plugin"))
    result = run("validate", str(spec), "--allow-plugins")
    assert result.returncode == 2 and "cannot import plugin 'broken_plugin': RuntimeError: boom" in result.stderr
