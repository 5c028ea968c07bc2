"""What `modelspec summary` shows, as data: rows of the Keras-style table and the --json document.

A layer called once is one row. A shared layer gets one row per node (`name@k`), each with the
shapes of that call: Keras shows one shape for a layer applied to (32, 32, 3) and (64, 64, 3);
we show both. Nested models can be expanded into their own layers.

Example:
    rows = summary_rows(graph, expand_nested=True)
    document = summary_json(graph)      # {"name", "total_params", ..., "layers": [...]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modelspec.graph import Graph, Node, ResolvedLayer, TensorRef
from modelspec.layers import Shape, format_shape
from modelspec.resources import readable_size


@dataclass(frozen=True)
class SummaryRow:
    """One line of the table; depth > 0 for the layers of an expanded nested model."""

    name: str
    type: str
    output_shape: str
    params: int | None
    connected_to: str
    depth: int = 0


def _tensor_name(graph: Graph, ref: TensorRef) -> str:
    """A tensor as a spec would write it: input, layer, layer@k for a shared layer, [i] for extra outputs."""
    if ref.source in graph.inputs:
        return ref.source
    shared = len(graph.layers[ref.source].nodes) > 1
    return ref.source + (f"@{ref.node}" if shared else "") + (f"[{ref.index}]" if ref.index else "")


def _shapes_text(shapes: list[Shape] | None) -> str:
    if not shapes:
        return "?"
    return format_shape(shapes[0]) if len(shapes) == 1 else "[" + ", ".join(map(format_shape, shapes)) + "]"


def summary_rows(graph: Graph, *, expand_nested: bool = False, depth: int = 0) -> list[SummaryRow]:
    rows: list[SummaryRow] = []
    if not graph.sequential:
        rows += [SummaryRow(i.name, "InputLayer", format_shape(i.shape), 0, "-", depth) for i in graph.inputs.values()]
    shown: set[str] = set()
    for node in graph.order:
        layer = node.layer
        shared = len(layer.nodes) > 1
        first_row = layer.name not in shown
        shown.add(layer.name)
        sources = [_tensor_name(graph, ref) for ref in node.inputs]
        if shared:
            sources = [f"{source} {format_shape(shape)}" for source, shape in zip(sources, node.input_shapes or [])]
        rows.append(
            SummaryRow(
                node.key if shared else layer.name,
                layer.type,
                _shapes_text(node.output_shapes),
                layer.params if first_row else None,
                ", ".join(sources) if not graph.sequential else "",
                depth,
            )
        )
        if expand_nested and first_row:
            for inner in layer.submodels():
                rows += summary_rows(inner, expand_nested=True, depth=depth + 1)
    return rows


def totals(graph: Graph) -> list[tuple[str, int, str]]:
    """[(label, count, size)] for Total, Trainable and Non-trainable params (float32 weights)."""
    return [
        (label, count, readable_size(count * 4))
        for label, count in (
            ("Total params", graph.total_params),
            ("Trainable params", graph.trainable_params),
            ("Non-trainable params", graph.non_trainable_params),
        )
    ]


def _shape_list(shape: Shape) -> list[int | None]:
    return list(shape)


def _node_json(graph: Graph, node: Node) -> dict[str, Any]:
    outputs = node.output_shapes or []
    return {
        "index": node.index,
        "inputs": [_tensor_name(graph, ref) for ref in node.inputs],
        "input_shapes": [_shape_list(s) for s in node.input_shapes or []],
        "output_shape": _shape_list(outputs[0]) if len(outputs) == 1 else [_shape_list(s) for s in outputs],
    }


def _layer_json(graph: Graph, layer: ResolvedLayer) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": layer.name,
        "type": layer.type,
        "params": layer.params,
        "trainable": layer.config.trainable,
        "nodes": [_node_json(graph, node) for node in layer.nodes],
    }
    submodels = layer.submodels()
    if submodels:
        entry["model"] = summary_json(submodels[0])
    return entry


def summary_json(graph: Graph) -> dict[str, Any]:
    """The --json document of `modelspec summary` (shapes include the batch dimension, null = unknown)."""
    layers: list[dict[str, Any]] = []
    if not graph.sequential:
        layers += [
            {"name": i.name, "type": "InputLayer", "params": 0, "trainable": True,
             "nodes": [{"index": 0, "inputs": [], "input_shapes": [], "output_shape": _shape_list(i.shape)}]}
            for i in graph.inputs.values()
        ]
    layers += [_layer_json(graph, layer) for layer in graph.layers.values()]
    return {
        "name": graph.name,
        "total_params": graph.total_params,
        "trainable_params": graph.trainable_params,
        "non_trainable_params": graph.non_trainable_params,
        "inputs": {name: {"shape": _shape_list(i.shape), "dtype": i.dtype} for name, i in graph.inputs.items()},
        "outputs": {name: _shape_list(shape) for name, shape in graph.output_shapes.items()},
        "layers": layers,
    }
