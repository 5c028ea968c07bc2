"""A Keras model config (the JSON of `model.to_json()`) -> a modelspec spec with the same layers.

Both layouts Keras has written are read:

- Keras 2 (tf.keras): `{"class_name": "Functional", "config": {"layers": [...], "input_layers",
  "output_layers"}}`; each layer `{"class_name", "config", "name", "inbound_nodes"}` with
  inbound_nodes `[[["layer", node_index, tensor_index, {kwargs}], ...], ...]` (one list per call);
  initializers `{"class_name": "GlorotUniform", "config": {...}}`; InputLayer `batch_input_shape`.
- Keras 3: the same keys plus `module`/`registered_name`; inbound_nodes
  `[{"args": [...], "kwargs": {...}}, ...]` where a tensor is
  `{"class_name": "__keras_tensor__", "config": {"keras_history": ["layer", node, tensor]}}`;
  dtype policies as objects; InputLayer `batch_shape`.

Sequential models become `sequential:`, functional ones `inputs:`/`layers:`/`outputs:`. A layer
called several times (shared) becomes one entry and `reuse:` entries (node k is `name@k`); a model
used as a layer becomes an entry of `models:` called by `{type: Model, model: NAME}` (inside
TimeDistributed: `layer: {model: NAME}`). A functional model used as a layer starts with a node of
its own in Keras, so Keras's node k of it is modelspec's node k - 1.

Config keys are Keras's names already. Keys modelspec leaves out are dropped only where they do
not change the model (`dtype`, `seed`-free details such as `implementation`, a `null`
regularizer); initializer, regularizer and constraint objects become modelspec's names; values
equal to modelspec's defaults are left out. Anything else (a layer type or an argument modelspec
does not support) is a problem listed with its place in the JSON, and nothing is written.

    spec_text, graph = convert_file("model.json")
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelspec.errors import Problem, SpecError, did_you_mean, quote, shorten
from modelspec.layers import load_all_layers

LAYERS = load_all_layers()  # a Keras file may name any type

Path_ = tuple[str | int, ...]

#: Keras class names of models (a model used as a layer).
MODEL_CLASSES = ("Functional", "Model", "Sequential")

#: Keras initializer classes whose configuration is fixed in modelspec: class -> (name, config modelspec assumes).
INITIALIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "GlorotUniform": ("glorot_uniform", {}),
    "GlorotNormal": ("glorot_normal", {}),
    "HeUniform": ("he_uniform", {}),
    "HeNormal": ("he_normal", {}),
    "LecunUniform": ("lecun_uniform", {}),
    "LecunNormal": ("lecun_normal", {}),
    "Orthogonal": ("orthogonal", {"gain": 1.0}),
    "Zeros": ("zeros", {}),
    "Ones": ("ones", {}),
    "Identity": ("identity", {"gain": 1.0}),
    "RandomUniform": ("uniform", {"minval": -0.05, "maxval": 0.05}),  # modelspec's uniform is random_uniform
    "RandomNormal": ("random_normal", {"mean": 0.0, "stddev": 0.05}),
    "TruncatedNormal": ("truncated_normal", {"mean": 0.0, "stddev": 0.05}),
}

#: VarianceScaling (scale, mode, distribution) -> the named initializer it is.
VARIANCE_SCALING = {
    (1.0, "fan_avg", "uniform"): "glorot_uniform",
    (1.0, "fan_avg", "truncated_normal"): "glorot_normal",
    (2.0, "fan_in", "uniform"): "he_uniform",
    (2.0, "fan_in", "truncated_normal"): "he_normal",
    (1.0, "fan_in", "uniform"): "lecun_uniform",
    (1.0, "fan_in", "truncated_normal"): "lecun_normal",
}

#: Keras regularizer classes -> modelspec's type and the keys it takes.
REGULARIZERS = {"L1": ("l1", ("l1",)), "L2": ("l2", ("l2",)), "L1L2": ("l1_l2", ("l1", "l2")), "L1L2Regularizer": ("l1_l2", ("l1", "l2"))}

#: Keras constraint classes -> modelspec's type and the keys it keeps (Keras's `axis` is the layer's default).
CONSTRAINTS = {"MaxNorm": ("max_norm", ("max_value",)), "NonNeg": ("non_neg", ()), "UnitNorm": ("unit_norm", ())}

#: Keras keys modelspec does not take, with the values that do not change the model (None: any value).
HARMLESS_KEYS: dict[str, tuple[Any, ...] | None] = {
    "dtype": None,  # modelspec computes in float32
    "autocast": None,
    "implementation": None,  # Keras 2 RNN kernel choice: the same equations
    "zero_output_for_mask": None,  # set by Bidirectional, as modelspec does
    "time_major": (False,),
    "sparse": (False,),
    "ragged": (False,),
    "optional": (False,),
    "lora_rank": (None,),
    "lora_alpha": None,
    "quantization_config": (None,),
    "input_spec": None,
}

#: Keras input dtypes modelspec reads.
DTYPES = {"float32", "float64", "int32", "int64", "bool"}


@dataclass
class TensorRef:
    """A Keras tensor: output `tensor` of call `node` of layer `layer` (Keras's keras_history)."""

    layer: str
    node: int
    tensor: int
    path: Path_


@dataclass
class Call:
    """One Keras node: the tensors a layer was called on, and extra keyword arguments."""

    inputs: list[TensorRef]
    options: dict[str, Any]
    path: Path_


@dataclass
class Converter:
    """Collects the spec's models and every problem found, with the JSON path where it was found."""

    file: str
    locations: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)

    def problem(self, message: str, path: Path_) -> None:
        where = self.locations.get(tuple(path))
        probe = tuple(path)
        while where is None and probe:
            probe = probe[:-1]
            where = self.locations.get(probe)
        line, column = where if where else (None, None)
        self.problems.append(Problem(f"{message} (at {json_path(path)})", self.file, line, column))

    # ----- models -------------------------------------------------------------------------------
    def model(self, document: dict[str, Any], path: Path_) -> tuple[str, dict[str, Any]]:
        """(name, body) of a serialized model: `{class_name, config}` or a bare config."""
        class_name = document.get("class_name")
        config = document.get("config", document) if class_name is not None else document
        config_path = (*path, "config") if class_name is not None else path
        if isinstance(config, list):  # Keras 1 / early Keras 2 Sequential: the config is the layer list
            config = {"layers": config}
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            self.problem("expected a Keras model config: {\"class_name\": \"Sequential\" or \"Functional\", \"config\": {\"layers\": [...]}}", path)
            return "model", {"sequential": []}
        name = str(config.get("name") or document.get("name") or "model")
        sequential = class_name == "Sequential" or (class_name is None and "input_layers" not in config)
        if class_name is not None and class_name not in MODEL_CLASSES:
            self.problem(f"expected a Sequential or Functional model, received class_name {quote(class_name)}", (*path, "class_name"))
        body = self.sequential(config, config_path) if sequential else self.functional(config, config_path)
        return name, body

    def nested_model(self, entry: dict[str, Any], path: Path_) -> str:
        """A model used as a layer: add it to `models:` and return its name there."""
        name, body = self.model(entry, path)
        if name in self.models and self.models[name] != body:
            self.problem(f"two different models are both named {quote(name)}", path)
        self.models[name] = body
        return name

    def sequential(self, config: dict[str, Any], path: Path_) -> dict[str, Any]:
        entries: list[dict[str, Any]] = []
        layers = config["layers"]
        declared = config.get("build_input_shape")
        for index, layer in enumerate(layers):
            layer_path = (*path, "layers", index)
            if not isinstance(layer, dict):
                self.problem("expected a layer: {\"class_name\": ..., \"config\": {...}}", layer_path)
                continue
            if layer.get("class_name") == "InputLayer":
                if index == 0:
                    entries.append(self.input_entry(layer, layer_path))
                continue
            entry = self.layer(layer, layer_path)
            if entry is None:
                continue
            shape = _batch_shape(layer.get("config", {}))
            if not entries and shape is None and isinstance(declared, list):
                shape = declared
            if not entries and shape is not None:
                entry = _with_input_shape(entry, shape)
            entries.append(entry)
        return {"sequential": entries}

    def input_entry(self, layer: dict[str, Any], path: Path_) -> dict[str, Any]:
        config = layer.get("config", {})
        shape = _batch_shape(config)
        if shape is None:
            self.problem("an InputLayer needs batch_shape (Keras 3) or batch_input_shape (Keras 2)", (*path, "config"))
            shape = [None]
        entry: dict[str, Any] = {"name": config.get("name") or layer.get("name"), "type": "Input", "shape": list(shape[1:])}
        dtype = self.dtype(config, (*path, "config", "dtype"))
        if dtype != "float32":
            entry["dtype"] = dtype
        if shape[0] is not None:
            entry["batch_size"] = shape[0]
        return {k: v for k, v in entry.items() if v is not None}

    def dtype(self, config: dict[str, Any], path: Path_) -> str:
        value = config.get("dtype", "float32")
        if isinstance(value, dict):  # Keras 3 DTypePolicy
            value = value.get("config", {}).get("name", "float32")
        value = str(value or "float32")
        if value not in DTYPES:
            self.problem(f"input dtype {quote(value)} is not one modelspec reads (expected one of {', '.join(sorted(DTYPES))})", path)
            return "float32"
        return value

    def functional(self, config: dict[str, Any], path: Path_) -> dict[str, Any]:
        layers = [layer for layer in config["layers"] if isinstance(layer, dict)]
        names = [str(layer.get("name") or layer.get("config", {}).get("name")) for layer in layers]
        by_name = dict(zip(names, layers))
        position = {name: index for index, name in enumerate(names)}
        inputs: dict[str, Any] = {}
        calls: dict[str, list[Call]] = {}
        for index, (name, layer) in enumerate(zip(names, layers)):
            layer_path = (*path, "layers", index)
            if layer.get("class_name") == "InputLayer":
                cfg = layer.get("config", {})
                shape = _batch_shape(cfg) or [None]
                spec: dict[str, Any] = {"shape": list(shape[1:])}
                dtype = self.dtype(cfg, (*layer_path, "config", "dtype"))
                if dtype != "float32":
                    spec["dtype"] = dtype
                if shape[0] is not None:
                    spec["batch_size"] = shape[0]
                inputs[name] = spec
                continue
            calls[name] = [self.call(node, (*layer_path, "inbound_nodes", k)) for k, node in enumerate(layer.get("inbound_nodes") or [])]
        settings: dict[str, dict[str, Any]] = {}
        for name, node_calls in calls.items():
            class_name = by_name[name].get("class_name")
            type_name = "Model" if class_name in MODEL_CLASSES else class_name if class_name in LAYERS else None
            for k, call in enumerate(node_calls):
                call.inputs, found = self.call_inputs(call, type_name)
                settings.setdefault(name, found)

        def offset(layer: str) -> int:
            """Keras's own first node of a functional model used as a layer (see the module docstring)."""
            entry = by_name.get(layer, {})
            if entry.get("class_name") in ("Functional", "Model"):
                return 1
            nodes = entry.get("inbound_nodes") or []
            return 1 if entry.get("class_name") == "Sequential" and nodes and isinstance(nodes[0], list) else 0

        multi_output = {ref.layer for node_calls in calls.values() for call in node_calls for ref in call.inputs if ref.tensor > 0}
        outputs_refs = [self.tensor(item, (*path, "output_layers", i)) for i, item in enumerate(_tensor_list(config.get("output_layers")))]
        multi_output |= {ref.layer for ref in outputs_refs if ref is not None and ref.tensor > 0}

        def reference(ref: TensorRef) -> str | None:
            if ref.layer in inputs:
                return ref.layer
            if ref.layer not in calls:
                self.problem(f"{quote(ref.layer)} is not a layer of this model" + did_you_mean(ref.layer, names), ref.path)
                return None
            node = ref.node - offset(ref.layer)
            if not 0 <= node < len(calls[ref.layer]):
                self.problem(f"layer {quote(ref.layer)} has no call (node) {ref.node}", ref.path)
                return None
            text = ref.layer + (f"@{node}" if len(calls[ref.layer]) > 1 else "")
            return text + (f"[{ref.tensor}]" if ref.tensor > 0 or ref.layer in multi_output else "")

        entries: list[dict[str, Any]] = []
        done: set[tuple[str, int]] = set()
        pending = [(name, k) for name in calls for k in range(len(calls[name]))]
        while pending:  # Keras's own order: a call once the calls it reads are made, a layer's calls in order
            progress = []
            for name, k in pending:
                call = calls[name][k]
                ready = (k == 0 or (name, k - 1) in done) and all(
                    ref.layer in inputs or ref.layer not in calls or (ref.layer, ref.node - offset(ref.layer)) in done for ref in call.inputs
                )
                if not ready:
                    continue
                refs = [reference(ref) for ref in call.inputs]
                given = [r for r in refs if r is not None]
                if k == 0:
                    entry = self.layer(by_name[name], (*path, "layers", position[name]))
                    if entry is not None:
                        entries.append({**entry, **settings.get(name, {}), "inputs": given[0] if len(given) == 1 else given})
                else:
                    entries.append({"reuse": name, "inputs": given[0] if len(given) == 1 else given})
                done.add((name, k))
                progress.append((name, k))
            if not progress:
                for name, k in pending:
                    message = f"call {k} of layer {quote(name)} reads a tensor that no call makes (graph disconnected)"
                    self.problem(message, calls[name][k].path)
                break
            pending = [item for item in pending if item not in progress]

        outputs = [reference(ref) for ref in outputs_refs if ref is not None]
        if not outputs:
            self.problem("the model has no output_layers", (*path, "output_layers"))
        if not inputs:
            self.problem("the model has no InputLayer", (*path, "input_layers"))
        return {"inputs": inputs, "layers": entries, "outputs": outputs[0] if len(outputs) == 1 else outputs}

    # ----- nodes --------------------------------------------------------------------------------
    def call(self, node: Any, path: Path_) -> Call:
        """One inbound node, Keras 2 (a list of [layer, node, tensor, kwargs]) or Keras 3 ({args, kwargs})."""
        if isinstance(node, dict):
            inputs: list[TensorRef] = []
            for i, arg in enumerate(node.get("args") or []):
                for j, item in enumerate(arg if isinstance(arg, list) else [arg]):
                    ref = self.tensor(item, (*path, "args", i, j) if isinstance(arg, list) else (*path, "args", i))
                    if ref is not None:
                        inputs.append(ref)
            return Call(inputs, dict(node.get("kwargs") or {}), path)
        inputs, options = [], {}
        for i, item in enumerate(node if isinstance(node, list) else []):
            ref = self.tensor(item, (*path, i))
            if ref is not None:
                inputs.append(ref)
            if isinstance(item, list) and len(item) > 3 and isinstance(item[3], dict):
                options.update(item[3])
        if not isinstance(node, list):
            self.problem("expected an inbound node: a list of [layer, node_index, tensor_index, kwargs] or {args, kwargs}", path)
        return Call(inputs, options, path)

    def tensor(self, item: Any, path: Path_) -> TensorRef | None:
        """A Keras 3 `__keras_tensor__` or a Keras 2 [layer, node, tensor(, kwargs)] list."""
        if isinstance(item, dict) and item.get("class_name") == "__keras_tensor__":
            history = item.get("config", {}).get("keras_history")
            path = (*path, "config", "keras_history")
        else:
            history = item
        if isinstance(history, list) and len(history) >= 3 and isinstance(history[0], str) and all(isinstance(v, int) for v in history[1:3]):
            return TensorRef(history[0], history[1], history[2], path)
        self.problem(f"expected a tensor reference [layer, node_index, tensor_index], received {_short(item)}", path)
        return None

    def call_inputs(self, call: Call, type_name: str | None) -> tuple[list[TensorRef], dict[str, Any]]:
        """The call's tensors, keyword tensors joining them (initial_state, MultiHeadAttention's query/value/key),
        and its other keyword arguments that are layer settings (use_causal_mask); None: an unsupported layer."""
        inputs = list(call.inputs)
        settings: dict[str, Any] = {}
        options = dict(call.options)
        for key in ("query", "value", "key"):
            if key in options and type_name == "MultiHeadAttention":
                ref = self.tensor(options.pop(key), (*call.path, "kwargs", key))
                if ref is not None:
                    inputs.append(ref)
        if "initial_state" in options:
            states = options.pop("initial_state")
            single = not isinstance(states, list) or (len(states) >= 3 and isinstance(states[0], str))
            for i, state in enumerate([states] if single else states):
                ref = self.tensor(state, (*call.path, "kwargs", "initial_state") if single else (*call.path, "kwargs", "initial_state", i))
                if ref is not None:
                    inputs.append(ref)
        for key, value in options.items():
            if key == "training" or value is None or type_name is None:
                continue
            if key in LAYERS[type_name].model_fields and not _is_tensor(value):
                settings[key] = value
                continue
            self.problem(f"the call argument {key}={_short(value)} of this {type_name} has no modelspec equivalent", (*call.path, "kwargs", key))
        return inputs, settings

    # ----- layers -------------------------------------------------------------------------------
    def layer(self, entry: dict[str, Any], path: Path_, *, wrapped: bool = False) -> dict[str, Any] | None:
        """A Keras layer entry -> a modelspec layer entry (None, with a problem, when it has no equivalent)."""
        class_name = entry.get("class_name")
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        name = config.get("name") or entry.get("name")
        if class_name in MODEL_CLASSES:
            model = self.nested_model(entry, path)
            result: dict[str, Any] = {"model": model} if wrapped else {"name": entry.get("name") or model, "type": "Model", "model": model}
            if config.get("trainable") is False:
                result["trainable"] = False
            return result
        if class_name not in LAYERS or class_name in ("Input", "Model"):
            known = [n for n in LAYERS if n not in ("Input", "Model")]
            hint = did_you_mean(str(class_name), known)
            self.problem(f"layer {quote(name)}: Keras's {shorten(str(class_name))} has no modelspec equivalent{hint}", path)
            return None
        cls = LAYERS[class_name]
        fields = cls.model_fields
        result = {} if wrapped else {"name": name}
        result["type"] = class_name
        config_path = (*path, "config")
        for key, value in config.items():
            key_path = (*config_path, key)
            if key in ("name", "batch_input_shape", "batch_shape", "input_shape", "build_config") or key in cls.input_declaration_keys:
                continue  # the input shape comes from the InputLayer or batch_input_shape (Keras 2 repeats input_length)
            if key == "trainable":
                if value is False:
                    result["trainable"] = False
                continue
            if cls.wraps_layer and key in cls.layer_fields:
                if value is not None:
                    inner = self.layer(value, key_path, wrapped=True) if isinstance(value, dict) else None
                    if inner is None and not isinstance(value, dict):
                        self.problem(f"expected a layer config for {quote(key)}", key_path)
                    if inner is not None:
                        result[key] = inner
                continue
            if key not in fields:
                allowed = HARMLESS_KEYS.get(key, ())
                if value is None or (key in HARMLESS_KEYS and (allowed is None or value in allowed)):
                    continue
                argument = f"{shorten(str(class_name))}'s argument {shorten(str(key))}={_short(value)}"
                self.problem(f"layer {quote(name)}: {argument} has no modelspec equivalent", key_path)
                continue
            converted = self.value(key, value, key_path, f"layer {quote(name)}: ")
            if converted is _SKIP:
                continue
            default = fields[key].default
            if not fields[key].is_required() and _equal(converted, default):
                continue
            result[key] = converted
        return result

    def value(self, key: str, value: Any, path: Path_, where: str = "") -> Any:
        """A config value in modelspec's form: initializer, regularizer and constraint objects become names."""
        if key.endswith("_initializer"):
            return self.initializer(value, path, where)
        if key.endswith("_regularizer"):
            return self.regularizer(value, path, where)
        if key.endswith("_constraint"):
            return self.constraint(value, path, where)
        if key in ("activation", "recurrent_activation") and isinstance(value, dict):
            inner = value.get("config")
            if isinstance(inner, str):
                return inner
            self.problem(f"{where}activation {_short(value)} is not a built-in activation name", path)
            return _SKIP
        if key == "axis" and isinstance(value, list) and len(value) == 1:  # Keras 2 BatchNormalization after build
            return value[0]
        return value

    def initializer(self, value: Any, path: Path_, where: str = "") -> Any:
        if value is None or isinstance(value, str):
            return _SKIP if value is None else value
        class_name, config = _object(value)
        config = {k: v for k, v in config.items() if k != "seed"}
        if class_name == "VarianceScaling":
            distribution = {"normal": "truncated_normal"}.get(config.get("distribution"), config.get("distribution"))
            found = VARIANCE_SCALING.get((float(config.get("scale", 1.0)), config.get("mode", "fan_in"), distribution))
            if found is not None:
                return found
        elif class_name == "Constant" and config.get("value") in (0, 0.0, 1, 1.0):
            return "zeros" if config["value"] == 0 else "ones"
        elif class_name in INITIALIZERS:
            name, expected = INITIALIZERS[class_name]
            if all(_close(config.get(k, v), v) for k, v in expected.items()):
                return name
        self.problem(f"{where}the initializer {_short(value)} has no modelspec equivalent (modelspec's initializers are Keras's named ones with their defaults)", path)
        return _SKIP

    def regularizer(self, value: Any, path: Path_, where: str = "") -> Any:
        if value is None:
            return _SKIP
        if isinstance(value, str):
            return value
        class_name, config = _object(value)
        if class_name in REGULARIZERS:
            type_name, keys = REGULARIZERS[class_name]
            found = {"type": type_name, **{k: float(config[k]) for k in keys if k in config}}
            if type_name == "l1_l2" and not found.get("l1"):
                found = {"type": "l2", "l2": found.get("l2", 0.0)}
            elif type_name == "l1_l2" and not found.get("l2"):
                found = {"type": "l1", "l1": found.get("l1", 0.0)}
            return found
        self.problem(f"{where}the regularizer {_short(value)} has no modelspec equivalent (l1, l2, l1_l2)", path)
        return _SKIP

    def constraint(self, value: Any, path: Path_, where: str = "") -> Any:
        if value is None:
            return _SKIP
        if isinstance(value, str):
            return value
        class_name, config = _object(value)
        if class_name in CONSTRAINTS:
            type_name, keys = CONSTRAINTS[class_name]
            return {"type": type_name, **{k: config[k] for k in keys if k in config}}
        self.problem(f"{where}the constraint {_short(value)} has no modelspec equivalent (max_norm, non_neg, unit_norm)", path)
        return _SKIP


_SKIP = object()


def _object(value: Any) -> tuple[str | None, dict[str, Any]]:
    if isinstance(value, dict):
        config = value.get("config")
        return value.get("class_name"), config if isinstance(config, dict) else {}
    return None, {}


def _is_tensor(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__"
    if isinstance(value, list):
        return len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int) or any(_is_tensor(v) for v in value)
    return False


def _close(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return a == b


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return _close(a, b)
    return type(a) is type(b) and a == b


def _batch_shape(config: dict[str, Any]) -> list[Any] | None:
    for key in ("batch_shape", "batch_input_shape"):
        if isinstance(config.get(key), list):
            return list(config[key])
    return None


def _with_input_shape(entry: dict[str, Any], shape: list[Any]) -> dict[str, Any]:
    """The first layer of a sequential model declares the input: input_shape, or batch_input_shape for a fixed batch."""
    declared = {"input_shape": list(shape[1:])} if shape[0] is None else {"batch_input_shape": list(shape)}
    first = {k: v for k, v in entry.items() if k in ("name", "type")}
    return {**first, **{k: v for k, v in entry.items() if k not in first}, **declared}


def _tensor_list(value: Any) -> list[Any]:
    """input_layers/output_layers: one [name, node, tensor] triple, a list of them, or a dict of them (Keras 3)."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value]
    return list(value or [])


def _short(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


def json_path(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"


# ----- files --------------------------------------------------------------------------------------
def read_config(path: str | Path) -> tuple[Any, dict[Path_, tuple[int, int]]]:
    """The JSON document and the line:column of its values (for the problems' locations).

    As a spec: at most 16 MiB (checked before reading) and MAX_DEPTH levels of nesting."""
    from modelspec.source import MAX_DEPTH, load_text, read_spec_bytes

    raw = read_spec_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        reason = f"the file is not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})"
        raise SpecError([Problem(reason, str(path))]) from None
    too_deep = SpecError([Problem(f"the JSON is nested deeper than {MAX_DEPTH} levels, more than any Keras model config", str(path))])
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SpecError([Problem(f"invalid JSON: {error.msg}", str(path), error.lineno, error.colno)]) from None
    except RecursionError:
        raise too_deep from None
    if _nesting(document) > MAX_DEPTH:
        raise too_deep
    try:  # JSON is YAML: modelspec's located loader gives every value's line and column
        locations = load_text(text, str(path)).values
    except SpecError:
        locations = {}
    return document, locations


def _nesting(document: Any) -> int:
    """How many levels of lists and objects nest in a JSON document (without recursion)."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


def convert_document(document: Any, *, file: str = "<keras config>", locations: dict | None = None) -> dict[str, Any]:
    """A Keras model config (parsed JSON) -> spec data (plain dicts); SpecError listing every problem."""
    converter = Converter(file, locations or {})
    if not isinstance(document, dict):
        converter.problem("expected a JSON object: the output of Keras's model.to_json()", ())
        raise SpecError(converter.problems)
    name, body = converter.model(document, ())
    if converter.problems:
        raise SpecError(converter.problems)
    spec: dict[str, Any] = {"name": _identifier(name)}
    if converter.models:
        spec["models"] = converter.models
    spec.update(body)
    return spec


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "model"
    return cleaned if not cleaned[0].isdigit() else f"model_{cleaned}"


def spec_yaml(spec: dict[str, Any], *, source: str = "") -> str:
    """Spec data as YAML in the style of specs/: one flow mapping per layer entry."""
    lines = [f"# Converted from the Keras model config {source} by `modelspec convert`." if source else "# Converted by `modelspec convert`."]
    lines.append(f"name: {_flow(spec['name'])}")
    if "models" in spec:
        lines.append("models:")
        for name, body in spec["models"].items():
            lines.append(f"  {name}:")
            lines.extend("    " + line for line in _body_lines(body))
    lines.extend(_body_lines(spec))
    return "\n".join(lines) + "\n"


def _body_lines(body: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "sequential" in body:
        lines.append("sequential:")
        lines.extend(f"  - {_flow(entry)}" for entry in body["sequential"])
        return lines
    lines.append("inputs:")
    lines.extend(f"  {name}: {_flow(spec)}" for name, spec in body["inputs"].items())
    lines.append("layers:")
    lines.extend(f"  - {_flow(entry)}" for entry in body["layers"])
    lines.append(f"outputs: {_flow(body['outputs'])}")
    return lines


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=float("inf")).strip().removesuffix("\n...").strip()


def convert_file(path: str | Path) -> tuple[str, Any]:
    """Convert a Keras config file; return the spec's YAML and its resolved graph (SpecError when not convertible)."""
    from modelspec.checked import check_spec
    from modelspec.source import load_text

    document, locations = read_config(path)
    spec = convert_document(document, file=str(path), locations=locations)
    text = spec_yaml(spec, source=Path(path).name)
    try:
        graph = check_spec(load_text(text, f"<spec converted from {Path(path).name}>")).graph
    except SpecError as error:
        listed = [Problem(f"the converted spec is not valid: {p.message}" + (f" (line {p.line} of the converted spec)" if p.line else ""), str(path)) for p in error.problems]
        raise SpecError(listed) from None
    return text, graph


__all__ = ["convert_document", "convert_file", "read_config", "spec_yaml"]
