"""Spec -> resolved graph: names, nodes, references, topological order, shapes and weights. No torch.

A layer is not a call: each entry of `layers:` calls a layer and makes one node (`name@k`),
so a shared layer has several nodes, each with its own input and output shapes. A sequential
model is resolved as the linear functional graph it is sugar for (input `x`, output `y`).
A Model layer's called model is resolved too, and its graph recorded on the resolved layer
(`ResolvedLayer.models`, by module path; `Graph.submodels` by the full path): configs hold no graph.
Spec files called by `{spec: file.yaml}` are loaded with `modelspec.validate.load_parts`.

A spec whose validation failed is resolved too (`resolve_parts`), from the parts that validated: a
layer entry that failed is an `UnknownLayer` whose name still resolves, an input that failed has an
unknown shape (None), and a node with an input of unknown shape skips its shape checks, so one
mistake is one problem, and the rest of the model is still checked.

Example:
    graph = resolve(spec, located)                  # SpecError with every problem
    graph, problems = resolve_parts(validated)      # as far as it goes (modelspec.checked)
    graph.layers["dense"].nodes[0].output_shapes   # [(None, 512)]
    graph.total_params                              # 669706
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelspec.errors import (
    Problem,
    ShapeError,
    SpecError,
    did_you_mean,
    format_choices,
)
from modelspec.layers import LAYERS, LayerConfig, Shape, Weight, auto_name_base, format_shape
from modelspec.layers.input import Input as InputLayer
from modelspec.layers.model import ExternalModel, Model, called_models, calling
from modelspec.paths import resolved
from modelspec.source import Located, SpecFileError
from modelspec.spec import ModelBody, Reuse, Spec
from modelspec.validate import Validated, load_parts

#: How deep models may call models (inline under `models:` or in other spec files): Keras has no
#: limit, but each level is a few Python frames when resolving, summarising and building.
MAX_MODEL_DEPTH = 32

_REFERENCE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:@(?P<node>[0-9]+))?(?:\[(?P<index>[0-9]+)\])?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@dataclass(frozen=True)
class TensorRef:
    """A tensor in the graph: output `index` of node `node` of layer (or input) `source`."""

    source: str
    node: int = 0
    index: int = 0

    def __str__(self) -> str:
        return f"{self.source}@{self.node}" + (f"[{self.index}]" if self.index else "")


@dataclass(eq=False)
class Node:
    """One call of a layer."""

    layer: ResolvedLayer
    index: int
    path: tuple
    written: list[str] = field(default_factory=list)
    inputs: list[TensorRef] = field(default_factory=list)
    input_shapes: list[Shape] | None = None
    output_shapes: list[Shape] | None = None

    @property
    def key(self) -> str:
        return f"{self.layer.name}@{self.index}"


@dataclass(frozen=True, eq=False)
class UnknownLayer:
    """A layer entry that failed validation (its problems are reported): what can be read of it still takes
    part, so that references to it resolve and its own `inputs:` are checked, but its output shapes are
    unknown and the nodes it feeds skip their shape checks (one mistake, one problem).

    `name` is its valid `name:`, else None; `base` the automatic name's (dense), None when that cannot be
    known either (a type that is no layer type, an invalid name): a reference that names no layer may then
    mean this one, and is not reported. `reuse` is the layer a failed `{reuse: NAME}` entry calls again."""

    layer_type: str
    name: str | None = None
    base: str | None = None
    reuse: str | None = None
    inputs: str | list[str] | None = None
    inputs_known: bool = True  # False: `inputs:` is not a reference or a list of them

    @classmethod
    def of(cls, entry: Any) -> UnknownLayer:
        """The placeholder of a layer entry as written (`{name: h, type: Dense, unitz: 4, inputs: a}`)."""
        entry = entry if isinstance(entry, dict) else {}
        kind = entry.get("type", "Model" if "model" in entry else None)
        kind = kind if isinstance(kind, str) else "?"
        name = entry.get("name")
        inputs = entry.get("inputs")
        texts = _as_list(inputs) if isinstance(inputs, (str, list)) else []
        readable = inputs is None or isinstance(inputs, (str, list)) and all(isinstance(t, str) and _REFERENCE.match(t) for t in texts)
        reuse = entry.get("reuse")
        return cls(kind, name if isinstance(name, str) and _NAME.match(name) else None, _automatic_base(kind, entry),
                   reuse if isinstance(reuse, str) and _NAME.match(reuse) else None, inputs if readable else None, readable)

    @property
    def named(self) -> bool:
        """Whether its name is known (given, automatic from a known type, or the layer it reuses)."""
        return self.name is not None or self.base is not None or self.reuse is not None

    def default_name(self) -> str:
        return self.base or "unknown_layer"

    def input_bound(self) -> int | None:
        return None


def _automatic_base(kind: str, entry: dict) -> str | None:
    """The base of the automatic name a layer entry gets (dense; a Model layer: its model's name), None if unknown."""
    if "name" in entry or "reuse" in entry:
        return None
    if kind == "Model":
        return entry["model"] if isinstance(entry.get("model"), str) and _NAME.match(entry["model"]) else None
    return auto_name_base(kind) if kind in LAYERS else None


@dataclass(eq=False)
class ResolvedLayer:
    """A layer with its config, its nodes, and the weights it was built with (on node 0's inputs)."""

    name: str
    config: LayerConfig | UnknownLayer  # UnknownLayer only while the spec has problems
    path: tuple
    nodes: list[Node] = field(default_factory=list)
    weights: dict[str, Weight] = field(default_factory=dict)
    #: The graphs of the models the layer calls, by module path within the layer ('' a Model layer, 'layer' one wrapped).
    models: dict[str, Graph] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.config.layer_type

    @property
    def trainable_params(self) -> int:
        return sum(w.size for w in self.weights.values() if w.trainable)

    @property
    def non_trainable_params(self) -> int:
        return sum(w.size for w in self.weights.values() if not w.trainable)

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    def submodels(self) -> list[Graph]:
        """Graphs of the models this layer calls (a Model layer, or a wrapper around one)."""
        return list(self.models.values())


@dataclass(frozen=True)
class GraphInput:
    name: str
    shape: Shape | None  # None only while the spec has problems: an input that failed validation
    dtype: str


@dataclass(eq=False)
class Graph:
    """A resolved model: inputs, layers, nodes in topological order, outputs with their shapes."""

    name: str
    sequential: bool
    inputs: dict[str, GraphInput]
    layers: dict[str, ResolvedLayer]
    order: list[Node]
    outputs: dict[str, TensorRef]
    output_shapes: dict[str, Shape]
    file: str | None = None
    weights_file: str | None = None

    def node(self, ref: TensorRef) -> Node:
        return self.layers[ref.source].nodes[ref.node]

    def weights(self) -> dict[str, Weight]:
        """Every weight by its stable name `layer.weight` (nested models: `model.layer.weight`)."""
        return {f"{layer.name}.{name}": w for layer in self.layers.values() for name, w in layer.weights.items()}

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers.values())

    @property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable_params for layer in self.layers.values())

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def submodels(self) -> dict[str, Graph]:
        """The graph of each model called by a layer, by module path (`encoder`, `per_frame.layer`)."""
        return {f"{layer.name}.{path}" if path else layer.name: sub for layer in self.layers.values() for path, sub in layer.models.items()}

    def nested_models(self) -> dict[str, Graph]:
        """Every nested model's graph, at any depth, by its full module path (`outer.inner`)."""
        found: dict[str, Graph] = {}
        for path, sub in self.submodels.items():
            found[path] = sub
            found.update({f"{path}.{inner}": deeper for inner, deeper in sub.nested_models().items()})
        return found

    def output_layer(self, output: str) -> ResolvedLayer | None:
        ref = self.outputs[output]
        return self.layers.get(ref.source)


def fixed_batch_size(graph: Graph) -> int | None:
    """The batch size every input fixes (batch_input_shape / batch_size: stateful models), or None."""
    sizes = {i.shape[0] for i in graph.inputs.values() if i.shape is not None and i.shape[0] is not None}
    return sizes.pop() if len(sizes) == 1 else None


def is_stateful(graph: Graph) -> bool:
    """Whether a layer keeps states from batch to batch (training then keeps batch order)."""
    return any(getattr(layer.config, "stateful", False) for layer in graph.layers.values())


def _as_list(value: str | list[str] | None) -> list[str] | None:
    return [value] if isinstance(value, str) else value


class _Resolver:
    """Resolves one spec file (and, recursively, the models it calls). Collects every problem."""

    def __init__(self, validated: Validated, load: Callable[[Path], Validated], files: tuple[str, ...], depth: int = 0):
        assert validated.spec is not None, "a spec whose model cannot be read has no graph"
        self.spec: Spec = validated.spec
        self.unknown = validated.unknown  # the paths of the parts that failed validation
        self.depth = depth  # how many models call this file's top model
        self.located = validated.located
        self.load = load
        self.files = files
        self.base_dir = Path(self.located.file).parent
        self.problems: list[Problem] = []
        self.models: dict[str, Graph | None] = {}
        self.in_scope: dict[Hashable, Graph] = {}  # the models Model layers of this file call, by Model.reference
        self.resolving: list[str] = []

    def problem(self, message: str, path: tuple, *, key: bool = False) -> None:
        self.problems.append(self.located.problem(message, path, key=key))

    def raw(self, path: tuple) -> Any:
        """The located data at `path`, as written (None where there is none)."""
        value = self.located.data
        for part in path:
            if isinstance(value, dict) and part in value or isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
                value = value[part]
            else:
                return None
        return value

    def top(self) -> tuple[Graph | None, bool]:
        """The file's model: its graph (None when its outputs are unknown) and whether it is sound."""
        with calling(self.in_scope):  # Model layers' shape rules read the graphs they call from here
            return self.body(self.spec, (), self.spec.name)

    # ----- sub-models -------------------------------------------------------------------------
    def model_graph(self, reference: str | ExternalModel, path: tuple) -> Graph | None:
        if self.depth + len(self.resolving) >= MAX_MODEL_DEPTH:
            called = reference if isinstance(reference, str) else reference.spec
            self.problem(f"'{called}' would be a model nested more than {MAX_MODEL_DEPTH} levels deep (models calling models): "
                         "call fewer levels", path)
            return None
        if isinstance(reference, ExternalModel):
            return self.external_model(reference, path)
        if reference in self.resolving:
            cycle = " -> ".join([*self.resolving[self.resolving.index(reference):], reference])
            self.problem(f"models call each other in a cycle: {cycle}", path)
            return None
        if reference not in self.models:
            if ("models",) in self.unknown or ("models", reference) in self.unknown:
                return None  # it failed validation: its problems are reported
            if reference not in self.spec.models:
                known = list(self.spec.models)
                hint = did_you_mean(reference, known) or (f" (models defined: {format_choices(known)})" if known else " (no models are defined under 'models:')")
                self.problem(f"unknown model '{reference}'{hint}", path)
                return None
            self.resolving.append(reference)
            graph, sound = self.body(self.spec.models[reference], ("models", reference), reference)
            self.models[reference] = graph if sound else None
            self.resolving.pop()
        return self.models[reference]

    def external_model(self, reference: ExternalModel, path: tuple) -> Graph | None:
        file = resolved(self.base_dir / reference.spec)  # Path.resolve raises on a symbolic link loop
        if str(file) in self.files:
            self.problem(f"spec '{reference.spec}' calls itself (through {' -> '.join(self.files)})", (*path, "spec"))
            return None
        try:
            validated = self.load(file)
        except SpecFileError as error:  # the file itself: located at the reference
            self.problem(f"cannot read spec '{reference.spec}': {error.reason} (looked for {error.path})", (*path, "spec"))
            return None
        except SpecError as error:  # its YAML
            self.problems.extend(error.problems)
            return None
        self.problems.extend(validated.problems)
        if validated.spec is None:
            return None
        called = _Resolver(validated, self.load, (*self.files, str(file)), self.depth + len(self.resolving) + 1)
        graph, sound = called.top()
        self.problems.extend(called.problems)
        if graph is None or not sound:
            return None
        if reference.weights is not None:
            weights = self.base_dir / reference.weights
            if not weights.is_file():
                self.problem(f"weights file '{reference.weights}' not found (looked for {weights})", (*path, "weights"))
            graph.weights_file = str(weights)
        return graph

    def bind_models(self, config: LayerConfig, path: tuple, *, wrapped: bool = False) -> bool:
        """Resolve the models Model layers call (also inside wrappers) into the scope. False when one failed."""
        ok = True
        if isinstance(config, Model):
            graph = self.model_graph(config.model, (*path, "model"))
            ok = graph is not None
            if graph is not None:
                self.in_scope[config.reference] = graph
        elif wrapped and (config.inputs is not None or config.name is not None):
            key = "inputs" if config.inputs is not None else "name"
            self.problem(f"a wrapped layer takes no '{key}': give it to the wrapper", (*path, key), key=True)
        for slot in type(config).layer_fields if config.wraps_layer else ():
            inner = getattr(config, slot)
            if inner is not None:
                ok = self.bind_models(inner, (*path, slot), wrapped=True) and ok
        return ok

    # ----- one model body ---------------------------------------------------------------------
    def body(self, body: ModelBody, prefix: tuple, name: str) -> tuple[Graph | None, bool]:
        """One model body's graph, and whether it is sound (no problem, no unknown part, every shape known).

        Parts that failed validation resolve by name with unknown shapes; the graph is None when the
        outputs are unknown (then nothing is checked against them)."""
        count = len(self.problems)
        entries = self.entries(body, prefix)
        for position, (entry, path) in enumerate(entries):
            if isinstance(entry, InputLayer) and (position > 0 or not body.is_sequential):
                where = "a functional model declares its inputs under 'inputs:'" if not body.is_sequential else "it must come first"
                self.problem(f"an Input entry only starts a sequential model: {where}", (*path, "type"))
        inputs = self.sequential_input(entries, prefix) if body.is_sequential else self.functional_inputs(body, prefix)
        if body.is_sequential:
            if entries and isinstance(entries[0][0], InputLayer):
                entries = entries[1:]  # it declared the input; it makes no node
            self.check_sequential_entries(entries)
        else:
            self.check_functional_entries(entries)
        unsure = any(isinstance(entry, UnknownLayer) and not entry.named for entry, _ in entries)
        layers, nodes, broken = self.make_nodes(entries, inputs, body.is_sequential)
        for node in nodes:
            node.inputs = [ref for ref in (self.reference(text, node.path, inputs, layers, unsure=unsure) for text in node.written) if ref]
        order = self.order_and_infer(nodes, inputs, layers, broken, infer=bool(inputs) or not body.is_sequential)
        self.check_shared_weights(layers)

        output_refs = self.outputs(body, prefix, nodes, inputs, layers, unsure=unsure)
        known = not broken and all(i.shape is not None for i in inputs.values())
        if len(self.problems) == count and known and output_refs:  # unconnected parts are worth reporting only once the rest is sound
            self.check_connected(prefix, inputs, nodes, output_refs, layers)
        if output_refs is None:
            return None, False
        output_shapes = {out: self.shape_of(ref, inputs, layers) for out, ref in output_refs.items()}
        sound = len(self.problems) == count and known and all(n.output_shapes is not None for n in nodes)
        graph = Graph(name, body.is_sequential, inputs, layers, order, output_refs, output_shapes, file=self.located.file)  # type: ignore[arg-type]
        return graph, sound and all(shape is not None for shape in output_shapes.values())

    def entries(self, body: ModelBody, prefix: tuple) -> list[tuple[Any, tuple]]:
        """(entry, path) of each entry of the body; an entry that failed validation is its UnknownLayer."""
        section = "sequential" if body.is_sequential else "layers"
        found = []
        for i, entry in enumerate(body.entries):
            path = (*prefix, section, i)
            found.append((UnknownLayer.of(self.raw(path)) if path in self.unknown else entry, path))
        return found

    def functional_inputs(self, body: ModelBody, prefix: tuple) -> dict[str, GraphInput]:
        """The declared inputs, in file order; one that failed validation has an unknown shape."""
        declared = body.inputs or {}
        written = self.raw((*prefix, "inputs"))
        inputs = {}
        for input_name in written if isinstance(written, dict) else declared:
            spec = declared.get(input_name)
            if not isinstance(input_name, str):
                continue
            if spec is None or (*prefix, "inputs", input_name) in self.unknown:
                inputs[input_name] = GraphInput(input_name, None, "float32")
            else:
                inputs[input_name] = GraphInput(input_name, (spec.batch_size, *spec.shape), spec.dtype)
        return inputs

    def make_nodes(self, entries: list, inputs: dict[str, GraphInput], sequential: bool) -> tuple[dict[str, ResolvedLayer], list[Node], set[int]]:
        """The layers and their nodes in file order, and the ids of the configs and nodes whose shapes cannot be inferred."""
        layers: dict[str, ResolvedLayer] = {}
        nodes: list[Node] = []
        broken: set[int] = set()
        explicit = {entry.name for entry, _ in entries if isinstance(entry, (LayerConfig, UnknownLayer)) and entry.name}
        taken: set[str] = set(inputs)
        unavailable, counters = taken | explicit, {}  # for automatic names: linear in the number of layers
        for entry, path in entries:
            reused = entry.reuse if isinstance(entry, (Reuse, UnknownLayer)) else None
            if reused is not None:
                layer = layers.get(reused)
                if layer is None:
                    later = any(isinstance(e, (LayerConfig, UnknownLayer)) and e.name == reused for e, _ in entries)
                    hint = " (a layer must be defined before it is reused)" if later else did_you_mean(reused, layers)
                    self.problem(f"'reuse: {reused}' names no layer defined above{hint}", (*path, "reuse"))
                    continue
                node = Node(layer, len(layer.nodes), path)
                if isinstance(entry, UnknownLayer):
                    broken.add(id(node))  # a call that failed validation: its shapes are unknown
            else:
                if isinstance(entry, UnknownLayer) or not self.bind_models(entry, path):
                    broken.add(id(entry))
                layer_name = entry.name or self.auto_name(entry, unavailable, counters)
                if layer_name in taken:
                    owner = "an input" if layer_name in inputs else "another layer"
                    self.problem(f"the name '{layer_name}' is used 2 times in the model (also by {owner}); names must be unique", (*path, "name"))
                    continue
                taken.add(layer_name)
                models = {} if isinstance(entry, UnknownLayer) else {
                    at: self.in_scope[m.reference] for at, m in called_models(entry) if m.reference in self.in_scope
                }
                layer = ResolvedLayer(layer_name, entry, path, models=models)
                layers[layer_name] = layer
                node = Node(layer, 0, path)
            layer.nodes.append(node)
            node.written = self.written_inputs(entry, node, nodes, inputs, sequential)
            nodes.append(node)
        return layers, nodes, broken

    def order_and_infer(self, nodes: list[Node], inputs: dict[str, GraphInput], layers: dict[str, ResolvedLayer], broken: set[int], *, infer: bool) -> list[Node]:
        """The nodes in dependency order (a cycle is reported), with their shapes inferred if `infer`."""
        order, cyclic = self.topological(nodes)
        if cyclic:
            names = " -> ".join(n.key for n in cyclic)
            self.problem(f"the layers form a cycle: {names} (a layer's output cannot feed back into its own input)", cyclic[0].path)
        if infer:
            for node in order:
                if id(node.layer.config) not in broken and id(node) not in broken:
                    self.infer(node, inputs, layers)
        return order

    @staticmethod
    def shape_of(ref: TensorRef, inputs: dict[str, GraphInput], layers: dict[str, ResolvedLayer]) -> Shape | None:
        """The shape of a tensor (None: unknown, while the spec has problems)."""
        if ref.source in inputs:
            return inputs[ref.source].shape
        produced = layers[ref.source].nodes[ref.node].output_shapes
        return produced[ref.index] if produced is not None else None

    def auto_name(self, config: LayerConfig, unavailable: set[str], counters: dict[str, int]) -> str:
        """Keras's automatic name: dense, dense_1, dense_2, ... skipping names in use (marked used here).

        `counters` remembers each base's next suffix, so that n layers are named in linear time.
        """
        base = config.default_name()
        k = counters.get(base, 0)
        candidate = base if k == 0 else f"{base}_{k}"
        while candidate in unavailable:
            k += 1
            candidate = f"{base}_{k}"
        counters[base] = k + 1
        unavailable.add(candidate)
        return candidate

    def sequential_input(self, entries: list, prefix: tuple) -> dict[str, GraphInput]:
        if not entries:
            self.problem("a sequential model needs at least one layer", (*prefix, "sequential"))
            return {}
        first, path = entries[0]
        if isinstance(first, UnknownLayer):
            return {"x": GraphInput("x", None, "float32")}  # it failed validation: the input shape it declares is unknown
        if not isinstance(first, LayerConfig):
            return {}
        try:
            shape = first.declared_input_shape()
        except ShapeError as error:
            self.problem(str(error), path)
            return {}
        if shape is None:
            self.problem(
                f"the first layer of a sequential model must declare the input shape: add input_shape: [...] "
                f"(or batch_input_shape{''.join(', ' + k for k in type(first).input_declaration_keys)}) to this {first.layer_type}",
                path,
            )
            return {}
        dtype = first.dtype if isinstance(first, InputLayer) else type(first).input_dtype
        return {"x": GraphInput("x", shape, dtype)}

    def check_sequential_entries(self, entries: list) -> None:
        for position, (entry, path) in enumerate(entries):
            if isinstance(entry, UnknownLayer):
                continue
            if isinstance(entry, Reuse):
                self.problem("a sequential model cannot reuse a layer: write a functional model (inputs/layers/outputs)", (*path, "reuse"), key=True)
                continue
            if entry.inputs is not None:
                self.problem("layers of a sequential model take no 'inputs': each is applied to the previous layer's output", (*path, "inputs"), key=True)
            if position > 0:
                for key in self.declaration_keys(entry):
                    self.problem(f"'{key}' is only allowed on the first layer of a sequential model", (*path, key), key=True)

    def check_functional_entries(self, entries: list) -> None:
        for entry, path in entries:
            if isinstance(entry, LayerConfig):
                for key in self.declaration_keys(entry):
                    self.problem(f"'{key}' declares a sequential model's input; a functional model declares its inputs under 'inputs:'", (*path, key), key=True)

    @staticmethod
    def declaration_keys(entry: LayerConfig) -> list[str]:
        keys = ("input_shape", "batch_size", "batch_input_shape", *type(entry).input_declaration_keys)
        return [key for key in keys if key in entry.model_fields_set]

    def written_inputs(self, entry: Any, node: Node, nodes: list[Node], inputs: dict, sequential: bool) -> list[str]:
        if isinstance(entry, UnknownLayer) and not entry.inputs_known:
            return []
        written = _as_list(entry.inputs) if not sequential else None
        if written is not None:
            return written
        if nodes:
            previous = nodes[-1]
            return [f"{previous.layer.name}@{previous.index}"]
        if len(inputs) == 1:
            return list(inputs)
        if inputs:
            self.problem(f"the first entry needs 'inputs:' (the model has several inputs: {format_choices(inputs)})", node.path)
        return []

    def reference(self, text: str, path: tuple, inputs: dict, layers: dict[str, ResolvedLayer], *, unsure: bool = False) -> TensorRef | None:
        """The tensor `text` names (NAME, NAME@NODE, NAME[OUTPUT]); None when it names none (reported unless
        `unsure`: a layer whose name is unknown may be the one)."""
        match = _REFERENCE.match(text)
        where = (*path, "inputs")
        if match is None:
            self.problem(f"'{text}' is not a reference: expected NAME, NAME@NODE or NAME[OUTPUT]", where)
            return None
        name, node, index = match["name"], match["node"], match["index"]
        if name in inputs:
            if node is not None or index is not None:
                self.problem(f"'{text}': '{name}' is a model input, which has one tensor; write '{name}'", where)
                return None
            return TensorRef(name)
        layer = layers.get(name)
        if layer is None:
            if not unsure:
                self.problem(f"'{text}' names no input or layer{did_you_mean(name, [*inputs, *layers])}", where)
            return None
        count = len(layer.nodes)
        choices = ", ".join(f"{name}@{k}" for k in range(count))
        if node is None and count > 1:
            self.problem(
                f"layer '{name}' has multiple inbound nodes (it is called {count} times), hence the notion of "
                f"\"layer output\" is ill-defined: refer to one call as {choices}",
                where,
            )
            return None
        node_index = int(node or 0)
        if node_index >= count:
            self.problem(f"'{text}': layer '{name}' has {count} node(s): {choices}", where)
            return None
        return TensorRef(name, node_index, int(index or 0))

    def topological(self, nodes: list[Node]) -> tuple[list[Node], list[Node]]:
        """Nodes in dependency order (file order where free), and the nodes of a cycle if there is one."""
        by_key = {node.key: node for node in nodes}
        consumers: dict[str, list[Node]] = {node.key: [] for node in nodes}
        pending: dict[str, int] = {}
        for node in nodes:
            producers = {f"{ref.source}@{ref.node}" for ref in node.inputs if f"{ref.source}@{ref.node}" in by_key}
            pending[node.key] = len(producers)
            for producer in producers:
                consumers[producer].append(node)
        ready = [node for node in nodes if pending[node.key] == 0]
        order: list[Node] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for consumer in consumers[node.key]:
                pending[consumer.key] -= 1
                if pending[consumer.key] == 0:
                    ready.append(consumer)
        if len(order) == len(nodes):
            return order, []
        # Walk back along unresolved producers from one stuck node until a node repeats: that is a cycle.
        done = {node.key for node in order}
        stuck = next(node for node in nodes if node.key not in done)
        trail: list[Node] = []
        while stuck not in trail:
            trail.append(stuck)
            stuck = next(by_key[f"{r.source}@{r.node}"] for r in stuck.inputs if f"{r.source}@{r.node}" in by_key and f"{r.source}@{r.node}" not in done)
        cycle = trail[trail.index(stuck):]
        return order, [*reversed(cycle), cycle[-1]]

    def infer(self, node: Node, inputs: dict[str, GraphInput], layers: dict[str, ResolvedLayer]) -> None:
        shapes: list[Shape] = []
        for ref in node.inputs:
            if ref.source in inputs:
                if inputs[ref.source].shape is None:
                    return  # it failed validation: its problem is already reported
                shapes.append(inputs[ref.source].shape)
                continue
            producer = layers[ref.source].nodes[ref.node]
            if producer.output_shapes is None:
                return  # its own problem is already reported
            if ref.index >= len(producer.output_shapes):
                self.problem(f"'{ref.source}[{ref.index}]': layer '{ref.source}' has {len(producer.output_shapes)} output(s)", (*node.path, "inputs"))
                return
            shapes.append(producer.output_shapes[ref.index])
        if len(shapes) != len(node.written):
            return
        config, layer = node.layer.config, node.layer
        fewest, most = type(config).arity
        if not fewest <= len(shapes) <= (most if most is not None else len(shapes)):
            expected = f"{fewest}" if fewest == most else f"at least {fewest}" if most is None else f"{fewest} to {most}"
            self.problem(f"layer '{layer.name}' ({layer.type}) takes {expected} input(s), received {len(shapes)}", (*node.path, "inputs") if node.written else node.path)
            return
        try:
            node.output_shapes = [tuple(shape) for shape in config.output_shapes(shapes)]
            if node.index == 0:
                layer.weights = {name: Weight(w.shape, w.trainable and config.trainable) for name, w in config.weights(shapes).items()}
        except ShapeError as error:
            node.output_shapes = None
            received = " and ".join(f"{name.removesuffix('@0')} {format_shape(s)}" for name, s in zip(node.written, shapes))
            self.problem(f"layer '{layer.name}' ({layer.type}) on {received}: {error}", node.path)
            return
        node.input_shapes = shapes

    def check_shared_weights(self, layers: dict[str, ResolvedLayer]) -> None:
        for layer in layers.values():
            first = layer.nodes[0] if layer.nodes else None
            if first is None or first.input_shapes is None:
                continue
            for node in layer.nodes[1:]:
                if node.input_shapes is None:
                    continue
                try:
                    needed = layer.config.weights(node.input_shapes)
                except ShapeError:
                    continue
                for name, weight in needed.items():
                    built = layer.weights.get(name)
                    if built is None or built.shape != weight.shape:
                        self.problem(
                            f"layer '{layer.name}' is shared, but node {node.key} on {' and '.join(map(format_shape, node.input_shapes))} "
                            f"needs weight '{name}' of shape {weight.shape}, while the layer was built on "
                            f"{' and '.join(map(format_shape, first.input_shapes))} with shape {built.shape if built else None}",
                            node.path,
                        )
                        break

    def outputs(self, body: ModelBody, prefix: tuple, nodes: list[Node], inputs: dict, layers: dict, *, unsure: bool = False) -> dict[str, TensorRef] | None:
        """The model's outputs by name; None when they are not all known (one failed validation or names no tensor)."""
        if body.is_sequential:
            if not nodes:
                return None
            last = nodes[-1]
            return {"y": TensorRef(last.layer.name, last.index, 0)}
        if (*prefix, "outputs") in self.unknown:
            return None
        refs: dict[str, TensorRef] = {}
        written = _as_list(body.outputs) or []
        for i, text in enumerate(written):
            path = (*prefix, "outputs", i) if isinstance(body.outputs, list) else (*prefix, "outputs")
            ref = self.reference(text, path[:-1] if isinstance(body.outputs, list) else path, inputs, layers, unsure=unsure)
            if ref is None:
                continue
            if ref.source in layers:
                produced = layers[ref.source].nodes[ref.node].output_shapes
                if produced is not None and ref.index >= len(produced):
                    self.problem(f"output '{text}': layer '{ref.source}' has {len(produced)} output(s)", path)
                    continue
            name = ref.source if ref.source not in refs else f"{ref.source}_{ref.node}_{ref.index}"
            refs[name] = ref
        return refs if len(refs) == len(written) else None

    def check_connected(self, prefix: tuple, inputs: dict, nodes: list[Node], outputs: dict[str, TensorRef], layers: dict) -> None:
        if not outputs:
            return
        by_key = {node.key: node for node in nodes}
        reached: set[str] = set()
        stack = [f"{ref.source}@{ref.node}" if ref.source in layers else ref.source for ref in outputs.values()]
        while stack:
            key = stack.pop()
            if key in reached:
                continue
            reached.add(key)
            node = by_key.get(key)
            if node is not None:
                stack.extend(f"{r.source}@{r.node}" if r.source in layers else r.source for r in node.inputs)
        for name in inputs:
            if name not in reached:
                self.problem(f"input '{name}' is not used by any layer on the way to the outputs", (*prefix, "inputs", name), key=True)
        for node in nodes:
            if node.key not in reached:
                self.problem(f"node {node.key} ({node.layer.type}) does not lead to any output: add it to 'outputs' or remove it", node.path)



def resolve(spec: Spec, located: Located, load: Callable[[Path], Validated] = load_parts) -> Graph:
    """Resolve a validated spec into its graph; raises SpecError with every problem found."""
    graph, problems = resolve_parts(Validated(located, spec), load)
    if problems or graph is None:
        raise SpecError(problems)
    return graph


def resolve_parts(validated: Validated, load: Callable[[Path], Validated] = load_parts) -> tuple[Graph | None, list[Problem]]:
    """The graph of what validated (`validated.spec` is not None), and every problem the graph shows.

    Parts that failed validation (`validated.unknown`) resolve by name with unknown shapes (None), so that
    what depends on them is not reported again; the graph is None when its outputs are unknown."""
    resolver = _Resolver(validated, load, (str(Path(validated.located.file).resolve()),))
    graph, _sound = resolver.top()
    return graph, resolver.problems
