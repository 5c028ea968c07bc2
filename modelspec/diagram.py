"""A resolved graph as a diagram (Keras's plot_model): DOT for Graphviz, and Mermaid. No torch.

A node per input and per layer, labelled `name (Type)` and, with shapes, each call's input and
output shapes. A shared layer is drawn once, with one incoming edge per call: the edge into call
k is labelled `→ @k`, and an edge out of node k of a shared layer `@k` (output i of a multi-output
layer `[i]`), as the spec writes references. With `expand_nested`, a layer that calls a model
(`{type: Model}`, or a wrapper around one) becomes a cluster holding that model's own diagram, and
the call's edges go to the model's inputs and leave from its outputs.

Example:
    diagram = build_diagram(graph)                 # data: nodes, edges, clusters
    text = to_dot(diagram)                         # digraph "shared_conv" { ... }
    text = to_mermaid(diagram)                     # flowchart TB ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from modelspec.graph import Graph, Node, ResolvedLayer, TensorRef
from modelspec.layers import LayerConfig, Shape, format_shape
from modelspec.layers.model import Model


@dataclass(frozen=True)
class DiagramNode:
    """A box: a model input or a layer. `cluster` is the id of the nested model drawn around it."""

    id: str
    title: str
    shapes: tuple[str, ...]
    is_input: bool = False
    cluster: str | None = None


@dataclass(frozen=True)
class DiagramEdge:
    source: str
    target: str
    label: str = ""


@dataclass(frozen=True)
class Cluster:
    """A nested model drawn as a box around its layers (expand_nested)."""

    id: str
    title: str
    shapes: tuple[str, ...]
    parent: str | None = None


@dataclass
class Diagram:
    name: str
    nodes: list[DiagramNode] = field(default_factory=list)
    edges: list[DiagramEdge] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)


def type_text(config: LayerConfig) -> str:
    """`Dense`, `TimeDistributed(Dense)`, `Model(classifier)`, `Bidirectional(LSTM)`, as Keras's plot_model."""
    if isinstance(config, Model):
        model = config.model if isinstance(config.model, str) else config.model.spec
        return f"Model({model})"
    inner: list[str] = []
    for nested in config.nested_layers():
        text = type_text(nested)
        if text not in inner:
            inner.append(text)
    return f"{config.layer_type}({', '.join(inner)})" if inner else config.layer_type


def _shapes(shapes: list[Shape] | None) -> str:
    if not shapes:
        return "?"
    return format_shape(shapes[0]) if len(shapes) == 1 else "[" + ", ".join(map(format_shape, shapes)) + "]"


def call_shapes(layer: ResolvedLayer) -> tuple[str, ...]:
    """One line per call: `(None, 784) → (None, 64)`, prefixed `@k:` for a shared layer."""
    shared = len(layer.nodes) > 1
    return tuple(
        (f"@{node.index}: " if shared else "") + f"{_shapes(node.input_shapes)} → {_shapes(node.output_shapes)}"
        for node in layer.nodes
    )


class _Builder:
    def __init__(self, *, shapes: bool, expand_nested: bool):
        self.shapes, self.expand_nested = shapes, expand_nested
        self.diagram: Diagram | None = None
        #: (id prefix, layer name) -> (inner graph, its id prefix) for the layers drawn as clusters
        self.expanded: dict[tuple[str, str], tuple[Graph, str]] = {}

    def build(self, graph: Graph) -> Diagram:
        self.diagram = Diagram(graph.name)
        self.add_graph(graph, "", None)
        return self.diagram

    def add_graph(self, graph: Graph, prefix: str, cluster: str | None) -> None:
        diagram = self.diagram
        for graph_input in graph.inputs.values():
            shapes = (format_shape(graph_input.shape),) if self.shapes else ()
            diagram.nodes.append(DiagramNode(prefix + graph_input.name, f"{graph_input.name} (InputLayer)", shapes, True, cluster))
        for layer in graph.layers.values():
            title = f"{layer.name} ({type_text(layer.config)})"
            shapes = call_shapes(layer) if self.shapes else ()
            inner = layer.submodels() if self.expand_nested else []
            if inner:
                cluster_id = prefix + layer.name
                diagram.clusters.append(Cluster(cluster_id, title, shapes, cluster))
                self.expanded[(prefix, layer.name)] = (inner[0], cluster_id + "/")
                self.add_graph(inner[0], cluster_id + "/", cluster_id)
            else:
                diagram.nodes.append(DiagramNode(prefix + layer.name, title, shapes, False, cluster))
        for node in graph.order:
            for position, ref in enumerate(node.inputs):
                diagram.edges.append(DiagramEdge(self.exit(graph, prefix, ref), self.entry(graph, prefix, node, position), _edge_label(graph, node, ref)))

    def exit(self, graph: Graph, prefix: str, ref: TensorRef) -> str:
        """The diagram node a tensor leaves from (inside a cluster: the nested model's output producer)."""
        nested = self.expanded.get((prefix, ref.source))
        if nested is None:
            return prefix + ref.source
        inner, inner_prefix = nested
        outputs = list(inner.outputs.values())
        return self.exit(inner, inner_prefix, outputs[min(ref.index, len(outputs) - 1)])

    def entry(self, graph: Graph, prefix: str, node: Node, position: int) -> str:
        """The diagram node input `position` of a call goes into (inside a cluster: the nested model's input)."""
        nested = self.expanded.get((prefix, node.layer.name))
        if nested is None:
            return prefix + node.layer.name
        inner, inner_prefix = nested
        names = list(inner.inputs)
        return inner_prefix + names[min(position, len(names) - 1)]


def _edge_label(graph: Graph, node: Node, ref: TensorRef) -> str:
    source = ""
    if ref.source in graph.layers:
        source = (f"@{ref.node}" if len(graph.layers[ref.source].nodes) > 1 else "") + (f"[{ref.index}]" if ref.index else "")
    target = f"→ @{node.index}" if len(node.layer.nodes) > 1 else ""
    return " ".join(part for part in (source, target) if part)


def build_diagram(graph: Graph, *, shapes: bool = True, expand_nested: bool = False) -> Diagram:
    """The diagram of a resolved graph, as data (see the module docstring)."""
    return _Builder(shapes=shapes, expand_nested=expand_nested).build(graph)


# ----- DOT ---------------------------------------------------------------------------------------
def _nest(diagram: Diagram, lines: list[str], node_line: Callable[[DiagramNode], str],
          opening: Callable[[Cluster], list[str]], closing: str) -> None:
    """Append the nodes and clusters, each cluster's contents inside it and indented (DOT and Mermaid alike)."""

    def emit(cluster: str | None, indent: str) -> None:
        lines.extend(indent + node_line(node) for node in diagram.nodes if node.cluster == cluster)
        for inner in diagram.clusters:
            if inner.parent == cluster:
                lines.extend(indent + line for line in opening(inner))
                emit(inner.id, indent + "  ")
                lines.append(indent + closing)

    emit(None, "  ")


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_label(title: str, shapes: tuple[str, ...]) -> str:
    return _dot_string("\n".join((title, *shapes)))


def to_dot(diagram: Diagram) -> str:
    """Graphviz DOT: `dot -Tsvg model.dot -o model.svg` draws it."""
    lines = [
        f"digraph {_dot_string(diagram.name)} {{",
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=11, labeljust=l];',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#5b7db1", fontname="Helvetica", fontsize=10];',
        '  edge [color="#555555", fontname="Helvetica", fontsize=9];',
    ]

    def node_line(node: DiagramNode) -> str:
        extra = ', fillcolor="#fff4d6", color="#b08a2e"' if node.is_input else ""
        return f"{_dot_string(node.id)} [label={_dot_label(node.title, node.shapes)}{extra}];"

    def opening(cluster: Cluster) -> list[str]:
        return [f"subgraph {_dot_string('cluster_' + cluster.id)} {{",
                f'  label={_dot_label(cluster.title, cluster.shapes)}; style="rounded,dashed"; color="#888888";']

    _nest(diagram, lines, node_line, opening, "}")
    for edge in diagram.edges:
        label = f" [label={_dot_string(edge.label)}]" if edge.label else ""
        lines.append(f"  {_dot_string(edge.source)} -> {_dot_string(edge.target)}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----- Mermaid -----------------------------------------------------------------------------------
def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def to_mermaid(diagram: Diagram) -> str:
    """A Mermaid flowchart (GitHub renders ```mermaid blocks and .mmd files)."""
    ids = {node.id: f"n{i}" for i, node in enumerate(diagram.nodes)}
    cluster_ids = {cluster.id: f"c{i}" for i, cluster in enumerate(diagram.clusters)}
    lines = ["flowchart TB"]

    def label(title: str, shapes: tuple[str, ...]) -> str:
        return '"' + "<br/>".join(_mermaid_text(part) for part in (title, *shapes)) + '"'

    def node_line(node: DiagramNode) -> str:
        text = label(node.title, node.shapes)
        return f"{ids[node.id]}([{text}])" if node.is_input else f"{ids[node.id]}[{text}]"

    _nest(diagram, lines, node_line, lambda cluster: [f"subgraph {cluster_ids[cluster.id]}[{label(cluster.title, cluster.shapes)}]"], "end")
    for edge in diagram.edges:
        text = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {ids[edge.source]} -->{text} {ids[edge.target]}")
    inputs = [ids[node.id] for node in diagram.nodes if node.is_input]
    lines.append("  classDef input fill:#fff4d6,stroke:#b08a2e")
    if inputs:
        lines.append(f"  class {','.join(inputs)} input")
    return "\n".join(lines) + "\n"
