"""Resolved graph -> torch module: a torch.fx GraphModule whose forward is straight-line code.

Each layer is one submodule (named after the layer); each node is one `call_module` on it, so a
shared layer's weights exist once. A layer's activation (Dense's `activation`, ...) is a separate
`call_function` after its module, which lets training take the logits of a softmax or sigmoid
output. `print(module.code)` shows the generated forward.

Example:
    module = build_module(graph)                       # forward(x) -> y
    module = build_module(graph, logits={"y"})         # forward returns y's pre-activation
"""

from __future__ import annotations

import operator

from torch import Tensor, fx, nn

from modelspec.graph import Graph, TensorRef
from modelspec.nn.activations import get_activation


def _key(ref: TensorRef) -> tuple[str, int, int]:
    return (ref.source, ref.node, ref.index)


def all_masks(*masks: Tensor) -> Tensor:
    """Where several masked tensors meet (Add, Concatenate on features), a step is kept only if kept in all."""
    combined = masks[0]
    for mask in masks[1:]:
        combined = combined & mask
    return combined


def build_module(graph: Graph, *, logits: set[str] | frozenset[str] = frozenset()) -> fx.GraphModule:
    """Compile `graph` into a GraphModule. Outputs named in `logits` are returned before their activation.

    forward takes the inputs in the graph's input order and returns one tensor for a single
    output, else a tuple in the graph's output order.
    """
    root = nn.Module()
    for layer in graph.layers.values():
        root.add_module(layer.name, layer.config.build(layer.nodes[0].input_shapes))

    code = fx.Graph()
    values: dict[tuple[str, int, int], fx.Node] = {}
    masks: dict[tuple[str, int, int], fx.Node] = {}
    pre_activation: dict[tuple[str, int, int], fx.Node] = {}
    for name in graph.inputs:
        values[(name, 0, 0)] = code.placeholder(name)
    for node in graph.order:
        layer, config = node.layer, node.layer.config
        args = tuple(values[_key(ref)] for ref in node.inputs)
        arriving = [masks[_key(ref)] for ref in node.inputs if _key(ref) in masks]
        kwargs = {}
        if config.consumes_mask and arriving:
            kwargs = {"mask": [masks.get(_key(ref)) for ref in node.inputs] if config.mask_per_input else arriving[0]}
        result = code.call_module(layer.name, args, kwargs)
        key = (layer.name, node.index, 0)
        if config.produces_mask():
            result, masks[key] = (code.call_function(operator.getitem, (result, i)) for i in (0, 1))
        elif config.mask_per_input and config.consumes_mask:
            if _key(node.inputs[0]) in masks:
                masks[key] = masks[_key(node.inputs[0])]
        elif arriving and config.keeps_mask():
            masks[key] = arriving[0] if len(arriving) == 1 else code.call_function(all_masks, tuple(arriving))
        if len(node.output_shapes) > 1:
            for i in range(len(node.output_shapes)):
                values[(layer.name, node.index, i)] = code.call_function(operator.getitem, (result, i))
            continue
        activation = config.output_activation()
        pre_activation[key] = result
        if activation not in (None, "linear"):
            result = code.call_function(get_activation(activation), (result,))
        values[key] = result

    results = []
    for name, ref in graph.outputs.items():
        key = _key(ref)
        results.append(pre_activation.get(key, values[key]) if name in logits else values[key])
    code.output(results[0] if len(results) == 1 else tuple(results))
    module = fx.GraphModule(root, code, class_name=graph.name)
    return module


def output_activations(graph: Graph) -> dict[str, str | None]:
    """The activation applied last to each output (softmax, sigmoid, ...), None when it is not a layer's."""
    found: dict[str, str | None] = {}
    for name, ref in graph.outputs.items():
        layer = graph.layers.get(ref.source)
        found[name] = layer.config.output_activation() if layer is not None and ref.index == 0 else None
    return found


def count_parameters(module: nn.Module) -> tuple[int, int]:
    """(trainable, non-trainable) as Keras counts them: frozen parameters and persistent buffers are non-trainable."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return trainable, sum(t.numel() for t in module.state_dict().values()) - trainable


def set_trainable(module: nn.Module, graph: Graph) -> None:
    """Freeze the parameters of layers declared `trainable: false` (and of frozen nested models)."""
    for layer in graph.layers.values():
        for weight_name, parameter in module.get_submodule(layer.name).named_parameters():
            spec = layer.weights.get(weight_name)
            if spec is not None and not spec.trainable:
                parameter.requires_grad_(False)
