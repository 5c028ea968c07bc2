"""The shared layer harness: every layer case runs through `check_case`.

A case gives a layer config, its input shapes, the output shapes and (trainable, non-trainable)
parameter counts expected from Keras's documented formulas. `check_case` checks the config round
trip, the shape rule, weights() against the built torch module (trainable weights are parameters,
non-trainable ones persistent buffers), a forward pass whose outputs have the inferred shapes, and
a backward pass reaching every parameter.

Each family of layers has its own test module (tests/test_layers*.py) with a `CASES` list run
through `check_case`; tests/test_layer_coverage.py checks that every registered layer has a case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from pydantic import TypeAdapter

from modelspec import layers
from modelspec.layers import LayerConfig, Shape
from modelspec.nn.build import build_layer
from modelspec.schema import build

build.use_types(layers.load_all_layers())  # every layer type in the union (a spec loads only the ones it names)
ADAPTER = TypeAdapter(layers.AnyLayer)
N = None  # an unknown dimension, as in Keras's (None, 10)


@dataclass
class Case:
    id: str
    config: dict
    inputs: list[Shape]
    outputs: list[Shape]
    params: tuple[int, int]
    integer_input: int | None = None  # Embedding: draw indices below this
    concrete: list[tuple[int, ...]] | None = field(default=None)  # sizes to run with, when the default substitution won't fit


def layer_from(config: dict) -> LayerConfig:
    return ADAPTER.validate_python(config, context={})


def concrete_shape(shape: Shape) -> tuple[int, ...]:
    """Replace unknown sizes: batch 2, others 3."""
    return tuple((2 if i == 0 else 3) if d is None else d for i, d in enumerate(shape))


def matches(inferred: Shape, actual: tuple[int, ...]) -> bool:
    return len(inferred) == len(actual) and all(d is None or d == a for d, a in zip(inferred, actual))


def param_counts(layer: LayerConfig, inputs: list[Shape]) -> tuple[int, int]:
    weights = layer.weights(inputs).values()
    return sum(w.size for w in weights if w.trainable), sum(w.size for w in weights if not w.trainable)


def check_case(case: Case) -> None:
    layer = layer_from(case.config)
    dumped = layer.model_dump(exclude_unset=True)
    assert layer_from(dumped) == layer

    assert layer.output_shapes(case.inputs) == case.outputs
    assert param_counts(layer, case.inputs) == case.params

    torch.manual_seed(0)
    module = build_layer(layer, case.inputs)
    weights = layer.weights(case.inputs)
    assert sum(p.numel() for p in module.parameters()) == case.params[0]
    assert {name: tuple(t.shape) for name, t in module.state_dict().items()} == {n: w.shape for n, w in weights.items()}
    assert {name for name, _ in module.named_parameters()} == {n for n, w in weights.items() if w.trainable}

    sizes = case.concrete or [concrete_shape(s) for s in case.inputs]
    if case.integer_input:
        xs = [torch.randint(0, case.integer_input, size) for size in sizes]
    else:
        xs = [torch.randn(size, requires_grad=True) for size in sizes]
    module.train()
    out = module(*xs)
    if layer.produces_mask():  # (output, mask): the mask marks the kept steps, (batch, steps)
        out, mask = out
        assert mask.dtype == torch.bool and tuple(mask.shape) == tuple(out.shape[: mask.dim()])
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    assert len(outs) == len(case.outputs)
    for inferred, tensor in zip(case.outputs, outs):
        assert matches(inferred, tuple(tensor.shape)), f"inferred {inferred}, ran {tuple(tensor.shape)}"

    activation = layer.output_activation()
    if activation is not None:
        from modelspec.nn.activations import get_activation

        outs = [get_activation(activation)(outs[0]), *outs[1:]]
    sum((o * torch.randn_like(o)).sum() for o in outs if o.is_floating_point()).backward()
    for name, p in module.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
    for i, x in enumerate(xs):
        if x.is_floating_point():
            assert x.grad is not None, f"no gradient for input {i}"
