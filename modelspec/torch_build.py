"""Resolved graph -> torch module: a torch.fx GraphModule whose forward is straight-line code.

Each layer is one submodule (named after the layer; a name Python or torch keeps, such as `class`,
`code` or `forward`, is held by another attribute, `class_`, while its weights keep the layer's name:
`CompiledModel`); each node is one `call_module` on it, so a shared layer's weights exist once. A called model (a Model layer, or one wrapped by TimeDistributed)
is its own graph, compiled here into its own GraphModule at its module path, with its weights
loaded when its reference names a weights file. A layer's activation (Dense's `activation`, ...) is a separate
`call_function` after its module, which lets training take the logits of a softmax or sigmoid
output. `print(module.code)` shows the generated forward.

Two rewrites keep the code as fast as a hand-written module, without changing a value or a
weight name: an activation that no output uses (an output trained from its logits) is not
computed, and a stack of LSTMs that feed only each other (Keras's stacked LSTM: each
`return_sequences: true` LSTM feeding the next, nothing else reading its sequence, all on torch's
fused kernel with the same units and no dropout, masks, states or activity regularizer) runs as
one multi-layer `torch.lstm` call on the layers' own weights, as `nn.LSTM(num_layers=n)` does.

Example:
    module = build_module(graph)                       # forward(x) -> y
    module = build_module(graph, logits={"y"})         # forward returns y's pre-activation
"""

from __future__ import annotations

import operator
from functools import partial

import torch
from torch import Tensor, fx, nn

from modelspec.graph import Graph, ResolvedLayer, TensorRef
from modelspec.nn.activations import get_activation
from modelspec.nn.build import instantiate
from modelspec.nn.lstm import KerasLSTM
from modelspec.reserved_names import layer_attributes
from modelspec.weights import load_weights


def _key(ref: TensorRef) -> tuple[str, int, int]:
    return (ref.source, ref.node, ref.index)


def all_masks(*masks: Tensor) -> Tensor:
    """Where several masked tensors meet (Add, Concatenate on features), a step is kept only if kept in all."""
    combined = masks[0]
    for mask in masks[1:]:
        combined = combined & mask
    return combined


def lstm_stack(x: Tensor, *layers: KerasLSTM) -> Tensor:
    """Stacked KerasLSTM layers (see `_fuse_lstm_stacks`) in one multi-layer torch.lstm call.

    The same result as calling each layer on the previous one's sequence: zero initial states,
    each layer's kernel, recurrent kernel and bias (with the zero second bias torch takes).
    """
    first, last = layers[0], layers[-1]
    has_bias = first.bias is not None
    params = []
    for layer in layers:
        params += [layer.kernel, layer.recurrent_kernel, *([layer.bias, layer.zero_bias] if has_bias else [])]
    zeros = x.new_zeros(len(layers), x.shape[0], first.units)
    sequence, _, _ = torch.lstm(x, (zeros, zeros), params, has_bias, len(layers), 0.0, first.training, False, True)
    return sequence if last.return_sequences else sequence[:, -1]


def _stackable(module: nn.Module) -> bool:
    """A KerasLSTM that runs torch's fused kernel on its input alone, whatever the mode."""
    return (
        type(module) is KerasLSTM and module.fused and not module.stateful and not module.go_backwards
        and not module.return_state and module.dropout == 0 and module.recurrent_dropout == 0
        and not module._forward_hooks and not module._forward_pre_hooks
    )


def _fuse_lstm_stacks(code: fx.Graph, root: nn.Module, graph: Graph, attributes: dict[str, str]) -> None:
    """Replace each chain of two or more stackable LSTM calls by one `lstm_stack` call."""
    candidates = {
        attributes[layer.name] for layer in graph.layers.values()
        if len(layer.nodes) == 1 and layer.config.activity_penalty() is None and _stackable(root.get_submodule(attributes[layer.name]))
    }
    chains: list[list[fx.Node]] = []
    chain_of: dict[fx.Node, list[fx.Node]] = {}
    for node in code.nodes:
        if node.op != "call_module" or node.target not in candidates or node.kwargs or len(node.args) != 1:
            continue
        module = root.get_submodule(node.target)
        previous = node.args[0]
        chain = chain_of.get(previous) if isinstance(previous, fx.Node) else None
        if chain is not None:
            below = root.get_submodule(previous.target)
            joins = below.return_sequences and len(previous.users) == 1 and below.units == module.units
            if joins and (below.bias is None) == (module.bias is None):
                chain.append(node)
                chain_of[node] = chain
                continue
        chain_of[node] = [node]
        chains.append(chain_of[node])
    for chain in chains:
        if len(chain) < 2:
            continue
        last = chain[-1]
        with code.inserting_before(last):
            layers = [code.get_attr(node.target) for node in chain]
            fused = code.call_function(lstm_stack, (chain[0].args[0], *layers))
        last.replace_all_uses_with(fused)
        for node in reversed(chain):
            code.erase_node(node)


def _node_name(name: str) -> str:
    """The name of a node's variable in the generated forward: the layer's (fx renames keywords and builtins), never `self`."""
    return f"{name}_" if name == "self" else name


#: The key of `CompiledModel.meta` that holds the attribute of each layer whose attribute is not its name.
LAYER_ATTRIBUTES = "modelspec_layer_attributes"


def _renamed(state_dict: dict, prefixes: dict[str, str]) -> None:
    """Rename, in place and in order, the keys of `state_dict` that start with one of `prefixes` to its value."""
    items = list(state_dict.items())
    state_dict.clear()
    for key, value in items:
        old = next((prefix for prefix in prefixes if key.startswith(prefix)), None)
        state_dict[key if old is None else prefixes[old] + key[len(old):]] = value


def weights_by_layer_name(module: nn.Module, state_dict: dict, prefix: str, local_metadata: dict, *, names: dict[str, str]) -> None:
    """state_dict hook: the weights of a layer held by another attribute keyed by the layer's name (`code.kernel`,
    not `code_.kernel`). `names`: layer name -> attribute."""
    _renamed(state_dict, {f"{prefix}{attribute}.": f"{prefix}{name}." for name, attribute in names.items()})


def weights_to_attributes(module: nn.Module, state_dict: dict, prefix: str, *args, names: dict[str, str]) -> None:
    """load_state_dict pre-hook: the weights keyed by layer name, loaded into the attribute that holds the layer."""
    _renamed(state_dict, {f"{prefix}{name}.": f"{prefix}{attribute}." for name, attribute in names.items()})


class CompiledModel(fx.GraphModule):
    """The compiled graph: a GraphModule that knows its layers by name, whatever attribute holds them (a layer
    named `code`, `class` or `forward` is the attribute `code_`, ...: modelspec.reserved_names).

    `get_submodule("code")` is that layer, and its weights are keyed `code.kernel` in `state_dict()` and
    `load_state_dict()`, as every other layer's: weights files, checkpoints and Keras imports key by layer name.
    """

    def get_submodule(self, target: str) -> nn.Module:
        module: nn.Module = self
        for atom in target.split(".") if target else ():
            if isinstance(module, CompiledModel):
                atom = module.meta.get(LAYER_ATTRIBUTES, {}).get(atom, atom)
            module = nn.Module.get_submodule(module, atom)
        return module


def _compiled(root: nn.Module, code: fx.Graph, name: str, attributes: dict[str, str]) -> CompiledModel:
    """The GraphModule of `code`, its layers found and their weights keyed by layer name."""
    module = CompiledModel(root, code, class_name=name)
    moved = {layer: attribute for layer, attribute in attributes.items() if layer != attribute}
    if moved:
        module.meta[LAYER_ATTRIBUTES] = moved
        module.register_state_dict_post_hook(partial(weights_by_layer_name, names=moved))
        module.register_load_state_dict_pre_hook(partial(weights_to_attributes, names=moved))
    return module


def _parameter(code: fx.Graph, name: str) -> fx.Node:
    """An input of forward. Its parameter takes the variable name fx gives the node (`class` -> `class_1`,
    `torch` -> `torch_1`: no keyword, builtin or name the generated code uses), since fx writes the
    parameter as the target given, unchanged; forward takes the inputs by position."""
    node = code.placeholder(_node_name(name) or name)
    node.target = node.name
    return node


def build_module(graph: Graph, *, logits: set[str] | frozenset[str] = frozenset(), fuse: bool = True) -> CompiledModel:
    """Compile `graph` into a GraphModule. Outputs named in `logits` are returned before their activation.

    forward takes the inputs in the graph's input order and returns one tensor for a single
    output, else a tuple in the graph's output order. `fuse=False` keeps one call per layer node
    (no stacked-LSTM rewrite), for comparisons.
    """
    root = nn.Module()
    attributes = layer_attributes(graph.layers)
    for layer in graph.layers.values():
        root.add_module(attributes[layer.name], _layer_module(layer))

    code = fx.Graph()
    activations: list[fx.Node] = []
    values: dict[tuple[str, int, int], fx.Node] = {}
    masks: dict[tuple[str, int, int], fx.Node] = {}
    pre_activation: dict[tuple[str, int, int], fx.Node] = {}
    for name in graph.inputs:
        values[(name, 0, 0)] = _parameter(code, name)
    for node in graph.order:
        layer, config = node.layer, node.layer.config
        args = tuple(values[_key(ref)] for ref in node.inputs)
        arriving = [masks[_key(ref)] for ref in node.inputs if _key(ref) in masks]
        kwargs = {}
        if config.consumes_mask and arriving:
            kwargs = {"mask": [masks.get(_key(ref)) for ref in node.inputs] if config.mask_per_input else arriving[0]}
        result = code.create_node("call_module", attributes[layer.name], args, kwargs, name=_node_name(layer.name))
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
            activations.append(result)
        values[key] = result

    results = []
    for name, ref in graph.outputs.items():
        key = _key(ref)
        results.append(pre_activation.get(key, values[key]) if name in logits else values[key])
    code.output(results[0] if len(results) == 1 else tuple(results))
    for node in activations:  # an output trained from its logits leaves its activation unused: not computed
        if not node.users:
            code.erase_node(node)
    if fuse:
        _fuse_lstm_stacks(code, root, graph, attributes)
    return _compiled(root, code, graph.name, attributes)


def _layer_module(layer: ResolvedLayer) -> nn.Module:
    """The layer's module, with the models it calls compiled from their graphs in place of the record's placeholders."""
    nested = {path: _nested_module(sub) for path, sub in layer.models.items()}
    if "" in nested:  # a Model layer: the called model itself
        return nested[""]
    module = instantiate(layer.config.module(layer.nodes[0].input_shapes))
    for path, compiled in nested.items():
        parent, _, name = path.rpartition(".")
        module.get_submodule(parent).register_module(name, compiled)
    return module


def _nested_module(graph: Graph) -> CompiledModel:
    """A called model's compiled graph, with the trained weights its reference names."""
    module = build_module(graph)
    if graph.weights_file is not None:
        load_weights(module, graph.weights_file)
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
