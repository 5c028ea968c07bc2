"""The training hot path's shortcuts give exactly what the plain path gives.

- an output trained from its logits does not compute its unused activation;
- a stack of LSTMs runs as one multi-layer torch.lstm call, bit for bit equal to one call per layer,
  and only where nothing else can tell (states, dropout, masks, shared layers, readers of a sequence);
- the engine switches train/eval mode only when it changes, and still follows a mode set from outside;
- only callbacks that act per batch are called per batch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from modelspec.checked import check_spec
from modelspec.torch_build import build_module
from modelspec.callbacks.runtime import Callback
from modelspec.training.engine import Engine
from modelspec.training.run import TrainingRun
from tests.helpers import SPECS, write

STACK = """
name: stack
sequential:
  - {{type: LSTM, units: 8, return_sequences: true, input_shape: [5, 3]{first}}}
  - {{type: LSTM, units: 8, return_sequences: true}}
  - {{type: LSTM, units: 8{last}}}
  - {{type: Dense, units: 4, activation: softmax}}
compile: {{optimizer: rmsprop, loss: categorical_crossentropy, metrics: [accuracy]}}
fit: {{epochs: 2, batch_size: 16}}
data:
  train: {{synthetic: {{samples: 64}}}}
"""


def stack(tmp_path, first: str = "", last: str = ""):
    return check_spec(write(tmp_path, STACK.format(first=first, last=last))).graph


def same_module_pair(graph, **kwargs):
    torch.manual_seed(0)
    fused = build_module(graph, fuse=True, **kwargs)
    plain = build_module(graph, fuse=False, **kwargs)
    plain.load_state_dict(fused.state_dict())
    return fused, plain


def test_an_output_trained_from_logits_skips_its_activation():
    graph = check_spec(SPECS / "headline.yaml").graph
    assert "sigmoid" not in build_module(graph, logits={"main_output", "aux_output"}).code
    assert build_module(graph, logits={"main_output"}).code.count("torch.sigmoid(") == 1
    assert build_module(graph).code.count("torch.sigmoid(") == 2


@pytest.mark.parametrize("last", ["", ", return_sequences: true"])
def test_a_stack_of_lstms_is_one_call_and_bit_for_bit_the_same(tmp_path, last):
    fused, plain = same_module_pair(stack(tmp_path, last=last))
    assert "lstm_stack" in fused.code and "lstm_stack" not in plain.code
    assert sorted(fused.state_dict()) == sorted(plain.state_dict())
    x = torch.rand(16, 5, 3)
    for training in (True, False):
        fused.train(training), plain.train(training)
        a, b = fused(x), plain(x)
        assert torch.equal(a, b)
        a.square().sum().backward(), b.square().sum().backward()
        for (name, p), (_, q) in zip(fused.named_parameters(), plain.named_parameters()):
            assert torch.equal(p.grad, q.grad), name
        fused.zero_grad(), plain.zero_grad()


@pytest.mark.parametrize("first", [", dropout: 0.5", ", recurrent_dropout: 0.5", ", go_backwards: true", ", use_cudnn: false",
                                   ", activity_regularizer: l2"])
def test_a_layer_that_cannot_join_stays_a_call_of_its_own(tmp_path, first):
    code = build_module(stack(tmp_path, first=first)).code
    assert "self.lstm(" in code  # the first layer runs alone
    assert "lstm_stack" in code  # the two others still fuse


def test_a_sequence_read_elsewhere_or_a_shared_layer_is_not_fused(tmp_path):
    functional = write(tmp_path, """
        name: branches
        inputs: {x: {shape: [5, 3]}}
        layers:
          - {name: a, type: LSTM, units: 8, return_sequences: true, inputs: x}
          - {name: b, type: LSTM, units: 8, inputs: a}
          - {name: pooled, type: GlobalAveragePooling1D, inputs: a}
          - {name: c, type: LSTM, units: 8, return_sequences: true, inputs: x}
          - {name: d, type: LSTM, units: 4, inputs: c}
          - {name: out, type: Concatenate, inputs: [b, pooled, d]}
        outputs: out
        """)
    code = build_module(check_spec(functional).graph).code
    assert "lstm_stack" not in code  # a's sequence has two readers; c and d differ in units
    fused, plain = same_module_pair(check_spec(SPECS / "shared_lstm_tweets.yaml").graph)
    assert "lstm_stack" not in fused.code and fused.code.count("self.shared_lstm(") == 2


def test_training_a_stack_gives_the_same_run_as_one_call_per_layer(tmp_path, monkeypatch):
    from modelspec.training import engine as engine_module

    path = write(tmp_path, STACK.format(first="", last=""))
    fused = TrainingRun(check_spec(path), tmp_path / "fused", device="cpu").fit().history
    monkeypatch.setattr(engine_module, "build_module", lambda graph, **kw: build_module(graph, **{**kw, "fuse": False}))
    plain = TrainingRun(check_spec(path), tmp_path / "plain", device="cpu").fit().history
    assert fused == plain


def test_the_engine_follows_a_mode_set_from_outside():
    prepared = check_spec(SPECS / "mnist_mlp.yaml")
    engine = Engine(prepared.graph, prepared.plan, device="cpu")
    x, y = torch.rand(4, 784), torch.eye(10)[:4]
    engine.train_step([x], {"y": y}, None, 4)
    assert engine.module.training
    engine.module.eval()
    engine.train_step([x], {"y": y}, None, 4)
    assert engine.module.training and all(m.training for m in engine.module.modules())
    engine.test_step([x], {"y": y}, None, 4)
    assert not any(m.training for m in engine.module.modules())


def test_only_callbacks_that_act_per_batch_are_called_per_batch(tmp_path):
    class Counting(Callback):
        batches = 0

        def on_batch_end(self, epoch, step, steps, read_logs):
            Counting.batches += 1
            assert np.isfinite(read_logs()["loss"])

    class Epochs(Callback):
        pass

    quiet = Epochs()
    quiet.on_batch_end = lambda *args: setattr(quiet, "called", True)  # set on the instance: still called
    run = TrainingRun(check_spec(write(tmp_path, STACK.format(first="", last=""))), tmp_path / "run", device="cpu", callbacks=[Counting(), Epochs(), quiet])
    run.fit()
    assert Counting.batches == 2 * 4 and getattr(quiet, "called", False)


def test_a_training_process_never_imports_torch_dynamo(tmp_path):
    # torch.optim.Optimizer's add_param_group, state_dict and load_state_dict import torch._dynamo on
    # their first call (about 1.2 s of a process); a run and its resume, without jit_compile, do not.
    import subprocess
    import sys

    spec = write(tmp_path, STACK.format(first="", last=""))
    run_dir = tmp_path / "run"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from modelspec.checked import check_spec\nfrom modelspec.training.run import TrainingRun\n"
        f"TrainingRun(check_spec({str(spec)!r}), Path({str(run_dir)!r}), overwrite=True).fit()\n"
        f"resumed = TrainingRun(check_spec({str(spec)!r}, ['fit.epochs=3']), Path({str(run_dir)!r}), resume=True).fit()\n"
        "print(len(resumed.history['loss']), 'torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["3", "False"], done.stdout
