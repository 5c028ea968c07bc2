"""Keras 3's Input entry in a sequential model, and masks flowing through the compiled graph."""

from __future__ import annotations

import torch

from modelspec.checked import check_spec
from modelspec.summary import summary_json
from modelspec.torch_build import build_module
from tests.helpers import only_problem, write


def test_input_entry_declares_the_sequential_input(tmp_path):
    with_input = write(tmp_path, "name: m\nsequential:\n  - {type: Input, shape: [6, 8], batch_size: 4}\n  - {type: LSTM, units: 3}\n", "a.yaml")
    declared = write(tmp_path, "name: m\nsequential:\n  - {type: LSTM, units: 3, batch_input_shape: [4, 6, 8]}\n", "b.yaml")
    assert summary_json(check_spec(with_input).graph) == summary_json(check_spec(declared).graph)


def test_input_entry_only_starts_a_sequential_model(tmp_path):
    p = only_problem(tmp_path, "name: m\nsequential:\n  - {type: Dense, units: 3, input_dim: 2}\n  - {type: Input, shape: [3]}\n")
    assert "it must come first" in p.message and p.line == 4


def test_embedding_mask_reaches_consumers_through_propagating_layers(tmp_path):
    spec = write(tmp_path, """
    name: masked
    inputs: {tokens: {shape: [5], dtype: int64}}
    layers:
      - {type: Embedding, input_dim: 10, output_dim: 4, mask_zero: true, inputs: tokens}
      - {type: Dropout, rate: 0.1}
      - {name: probe, type: Dense, units: 2}
    outputs: probe
    """)
    graph = check_spec(spec).graph
    module = build_module(graph)
    # the mask leaves Embedding (getitem 1) and is dropped by Dense's successor-less output: the code shows the split
    assert "getitem" in module.code
    out = module(torch.tensor([[1, 2, 0, 0, 0]]))
    assert out.shape == (1, 5, 2)


def padded_equals_unpadded(tmp_path, layers: str, name: str) -> None:
    """With mask_zero, trailing padding changes nothing at the kept steps."""
    spec = write(tmp_path, f"""
    name: masked
    inputs: {{tokens: {{shape: [null], dtype: int64}}}}
    layers:
      - {{name: embedded, type: Embedding, input_dim: 10, output_dim: 4, mask_zero: true, inputs: tokens}}
    {layers}
    outputs: {name}
    """, f"{name}.yaml")
    graph = check_spec(spec).graph
    torch.manual_seed(0)
    module = build_module(graph).eval()
    with torch.no_grad():
        padded = module(torch.tensor([[1, 2, 3, 0, 0]]))
        short = module(torch.tensor([[1, 2, 3]]))
    kept = padded[:, :3] if padded.dim() == 3 else padded
    assert torch.allclose(kept, short, atol=1e-5)


def test_mask_reaches_global_average_pooling(tmp_path):
    padded_equals_unpadded(tmp_path, "  - {name: pooled, type: GlobalAveragePooling1D}", "pooled")


def test_mask_reaches_bidirectional_gru(tmp_path):
    padded_equals_unpadded(tmp_path, "  - {name: encoded, type: Bidirectional, layer: {type: GRU, units: 3}}", "encoded")


def test_mask_reaches_each_input_of_attention(tmp_path):
    padded_equals_unpadded(tmp_path, "  - {name: attended, type: MultiHeadAttention, num_heads: 2, key_dim: 2, inputs: [embedded, embedded]}", "attended")
    padded_equals_unpadded(tmp_path, "  - {name: scored, type: Attention, inputs: [embedded, embedded]}", "scored")
