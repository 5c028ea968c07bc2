"""fit.jit_compile: true (torch.compile, Keras's name) trains to the same numbers as eager, recurrent layers included.

Inductor cannot lower torch's fused recurrent kernels on the CPU, so they run eagerly between
compiled parts (`compile_module`); this test would fail with "expected Tensor() for op
mkldnn_rnn_layer" otherwise.
"""

from __future__ import annotations

import math

from modelspec.training.run import TrainingRun, prepare
from tests.helpers import write

SPEC = """
name: jit
sequential:
  - {type: LSTM, units: 4, return_sequences: true, input_shape: [3, 2]}
  - {type: LSTM, units: 4}
  - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: sgd, loss: categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 2, batch_size: 8, shuffle: false}
data:
  train: {synthetic: {samples: 32}}
"""


def test_jit_compile_trains_a_stacked_lstm_like_eager(tmp_path):
    spec = write(tmp_path, SPEC)
    histories = {}
    for jit in (False, True):
        prepared = prepare(spec, [f"fit.jit_compile={str(jit).lower()}"])
        result = TrainingRun(prepared, tmp_path / f"run-{jit}", seed=0, device="cpu").fit()
        assert result.status == "finished", result.message
        histories[jit] = result.history["loss"]
    assert all(math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6) for a, b in zip(histories[False], histories[True])), histories
