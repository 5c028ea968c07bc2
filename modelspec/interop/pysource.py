"""A model as one standalone PyTorch source file: torch and safetensors, no modelspec.

The file holds, in this order: its imports; the source of the modelspec layer modules the model
uses (modelspec.nn classes, with the helper functions and constants they reference, taken with
`inspect.getsource`); one `nn.Module` class per model (a nested model is a class of its own) whose
`__init__` builds each layer with the arguments modelspec built it with and whose `forward` is the
graph written out by layer name; and a classmethod `load(weights_path)` on the main class that
loads modelspec's safetensors weights (keys `layer.weight`, PyTorch layout).

    model = Headline.load("model.safetensors")
    main_output, aux_output = model(main_input, aux_input)

Weights come from the file, so modelspec's initialisers are left out: `initialize` is a function
that returns the empty tensor it is given.

The constructor calls are the layers' module records (`LayerConfig.module(input_shapes)`, the
data that modelspec.nn.build.instantiate calls): the class, the arguments that differ from the
constructor's defaults, positional while they have none. The file is still imported and checked
against modelspec's module on a sample batch before it is kept.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.machinery
import importlib.util
import inspect
import keyword
import math
import operator
import re
import sys
import textwrap
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from modelspec.files import atomic_write
from modelspec.graph import Graph, ResolvedLayer
from modelspec.interop import ExportError
from modelspec.interop.samples import Exported, max_difference, outputs_tuple, sample_inputs
from modelspec.layers.base import NESTED_MODEL, ModuleRecord
from modelspec.nn.build import target_class
from modelspec.torch_build import LAYER_ATTRIBUTES, build_module, weights_by_layer_name, weights_to_attributes

#: Objects replaced in the written file: the initialisers (weights come from the file).
REPLACEMENTS: dict[tuple[str, str], str] = {
    ("modelspec.nn.init", "initialize"): '''def initialize(tensor: torch.Tensor, name: str) -> torch.Tensor:
    """Weights are loaded from the safetensors file: the tensor is left as torch.empty made it."""
    return tensor
''',
}

#: Largest absolute difference from modelspec's outputs accepted by the self-check.
TOLERANCE = 1e-5


# ----- constructor arguments ----------------------------------------------------------------------
def call_arguments(target: Callable, record: ModuleRecord) -> list[tuple[str | None, str, Any]]:
    """(keyword or None for a positional argument, parameter name, value) of the record's call, as the file writes it.

    Parameters without a default are positional until the first keyword-only or defaulted one;
    after that, only the arguments that differ from their defaults are written, by keyword.
    """
    signature = inspect.signature(target)
    bound = signature.bind(*record.args, **record.kwargs).arguments
    found: list[tuple[str | None, str, Any]] = []
    positional = True
    for name, parameter in signature.parameters.items():
        if parameter.kind is parameter.VAR_POSITIONAL:
            found += [(None, name, value) for value in bound.get(name, ())]
        elif parameter.kind is parameter.VAR_KEYWORD:  # passed on to a base class: what differs from its default
            passed = bound.get(name, {}).items()
            found += [(key, key, value) for key, value in passed if not _same(value, _inherited_default(target, key))]
        elif positional and parameter.kind is not parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            found.append((None, name, bound[name]))
        else:
            positional = False
            if name in bound and (parameter.default is parameter.empty or not _same(bound[name], parameter.default)):
                found.append((name, name, bound[name]))
    return found


def _inherited_default(cls: Any, name: str) -> Any:
    """The default of keyword `name` in the first base-class constructor that declares it."""
    for base in getattr(cls, "__mro__", ())[1:]:
        init = vars(base).get("__init__")
        if init is not None and inspect.isfunction(init):
            parameter = inspect.signature(init).parameters.get(name)
            if parameter is not None:
                return parameter.default
    return inspect.Parameter.empty


def _same(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 (values whose == is not a bool: tensors)
        return a is b


# ----- source of the modelspec objects used ---------------------------------------------------------
@dataclass
class Definition:
    """A top-level definition copied into the file: a class, a function or an assignment."""

    key: tuple[str, str]  # (module, name)
    source: str


@dataclass
class SourceCollector:
    """Collects the definitions an object needs, dependencies first, and the imports they use."""

    definitions: dict[tuple[str, str], Definition] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    visiting: set[tuple[str, str]] = field(default_factory=set)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add_object(self, obj: Any) -> str:
        """Include a modelspec class or function (or import a torch/stdlib one); its name in the file."""
        module = getattr(obj, "__module__", None) or ""
        name = obj.__name__
        if not _is_modelspec(module):
            self.imports.add(_import_line(module, name, name, obj))
            return name
        self._include(module, name, lambda: self._object_source(obj))
        return name

    def _include(self, module: str, name: str, source: Callable[[], str]) -> None:
        key = (module, name)
        if key in self.definitions or key in self.visiting:
            return
        other = self.names.get(name)
        if other is not None and other != key:
            raise ExportError(f"cannot write one file: '{name}' is defined in both {other[0]} and {module}")
        self.names[name] = key
        self.visiting.add(key)
        replacement = REPLACEMENTS.get(key)
        text = replacement if replacement is not None else source()
        for used in _used_names(text):
            self._resolve(module, used)
        self.visiting.discard(key)
        self.definitions[key] = Definition(key, text)

    def _object_source(self, obj: Any) -> str:
        try:
            text = inspect.getsource(obj)
        except (OSError, TypeError) as error:
            raise ExportError(f"cannot read the source of {obj.__module__}.{obj.__qualname__}: {error}") from None
        return textwrap.dedent(text)

    def _resolve(self, module_name: str, name: str) -> None:
        """Make `name`, as the module `module_name` sees it, available in the file."""
        module = importlib.import_module(module_name)
        if name not in vars(module):
            return  # a local or a builtin
        value = vars(module)[name]
        if isinstance(value, types.ModuleType):
            if _is_modelspec(value.__name__):
                raise ExportError(f"{module_name} uses the module {value.__name__} as '{name}': the file cannot import modelspec")
            self.imports.add(_module_import(value.__name__, name))
            return
        home = getattr(value, "__module__", None)
        if (isinstance(value, type) or inspect.isfunction(value) or inspect.isbuiltin(value)) and home:
            if not _is_modelspec(home):
                self.imports.add(_import_line(home, getattr(value, "__name__", name), name, value))
                return
            self._include(home, value.__name__, lambda: self._object_source(value))
            if value.__name__ != name:
                self._include(module_name, name, lambda: f"{name} = {value.__name__}\n")
            return
        self._include_assignment(module_name, name)

    def _include_assignment(self, module_name: str, name: str) -> None:
        """A module-level value (constant, table, type alias): its assignment, or follow its import."""
        module = importlib.import_module(module_name)
        text = inspect.getsource(module)
        tree = ast.parse(text)
        lines = text.splitlines(keepends=True)
        for statement in tree.body:
            if _assigns(statement, name):
                start = statement.lineno - 1
                while start > 0 and lines[start - 1].lstrip().startswith("#"):
                    start -= 1  # the comment lines just above belong to it
                text = "".join(lines[start : statement.end_lineno])
                self._include(module_name, name, lambda text=text: text)
                return
            if isinstance(statement, ast.ImportFrom) and statement.module and statement.level == 0:
                for alias in statement.names:
                    if (alias.asname or alias.name) == name:
                        if not _is_modelspec(statement.module):
                            self.imports.add(_from_import(statement.module, alias.name, name))
                            return
                        self._include_assignment(statement.module, alias.name)
                        if alias.name != name:
                            line = f"{name} = {alias.name}\n"
                            self._include(module_name, name, lambda line=line: line)
                        return
        raise ExportError(f"cannot find where {module_name} defines '{name}' to copy it into the file")

    def ordered(self) -> list[Definition]:
        return list(self.definitions.values())


def _is_modelspec(module: str) -> bool:
    return module == "modelspec" or module.startswith("modelspec.")


def _assigns(statement: ast.stmt, name: str) -> bool:
    if isinstance(statement, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
    if isinstance(statement, ast.AnnAssign):
        return isinstance(statement.target, ast.Name) and statement.target.id == name and statement.value is not None
    return False


def _used_names(text: str) -> list[str]:
    """Names a definition reads (in first-seen order), its own bound names aside where they are not global."""
    seen: dict[str, None] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            seen.setdefault(node.id, None)
    return [name for name in seen if not hasattr(builtins, name)]


def _module_import(module: str, alias: str) -> str:
    if module == alias:
        return f"import {module}"
    parent, _, last = module.rpartition(".")
    if last == alias and parent:
        return f"from {parent} import {last}"
    return f"import {module} as {alias}"


def _from_import(module: str, name: str, alias: str) -> str:
    return f"from {module} import {name}" + (f" as {alias}" if alias != name else "")


def _import_line(module: str, name: str, alias: str, value: Any) -> str:
    """`from module import name` where that module exposes the object under this name, else its defining module."""
    if module.startswith("torch") or module in sys.stdlib_module_names or module.split(".")[0] in sys.stdlib_module_names:
        for candidate in _public_homes(module):
            if getattr(importlib.import_module(candidate), name, None) is value:
                return _from_import(candidate, name, alias)
        return _from_import(module, name, alias)
    raise ExportError(f"the file would need '{name}' from {module}, which is neither torch nor the standard library")


def _public_homes(module: str) -> list[str]:
    """torch.nn.modules.dropout -> torch.nn, torch.nn.modules, torch.nn.modules.dropout (shortest first)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@dataclass(frozen=True)
class Place:
    """Where a record's module sits: in layer `layer` of the compiled model `model`, at `path` within the layer's module."""

    model: fx.GraphModule
    layer: ResolvedLayer
    path: str

    @property
    def module_path(self) -> str:
        return f"{self.layer.name}.{self.path}" if self.path else self.layer.name

    def inside(self, parameter: str) -> Place:
        """The submodule a wrapped layer's module becomes: named after the constructor parameter it is passed to."""
        return Place(self.model, self.layer, f"{self.path}.{parameter}" if self.path else parameter)


# ----- values as Python expressions ----------------------------------------------------------------
class Writer:
    """Writes the file: definitions, model classes, constructor expressions."""

    def __init__(self) -> None:
        self.collector = SourceCollector()
        self.classes: dict[int, str] = {}  # id(GraphModule) -> generated class name
        self.model_sources: list[str] = []
        self.module_names: set[str] = set()

    def expression(self, value: Any) -> str:
        """A Python expression that rebuilds the plain value `value` in the written file."""
        if value is None or isinstance(value, (bool, int, str)):
            return repr(value)
        if isinstance(value, float):
            return repr(value) if math.isfinite(value) else f"float('{value}')"
        if isinstance(value, torch.dtype):
            return str(value)
        if isinstance(value, tuple):
            inner = ", ".join(self.expression(v) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        if isinstance(value, list):
            return "[" + ", ".join(self.expression(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.expression(k)}: {self.expression(v)}" for k, v in value.items()) + "}"
        raise ExportError(f"cannot write the value {value!r} ({type(value).__name__}) as Python source")

    def layer_module(self, model: fx.GraphModule, layer: ResolvedLayer) -> str:
        """The constructor call of a layer's module: its record written out, a nested model as its class."""
        return self.construction(layer.config.module(layer.nodes[0].input_shapes), Place(model, layer, ""))

    def construction(self, record: ModuleRecord, place: Place) -> str:
        if record is NESTED_MODEL:
            nested = place.model.get_submodule(place.module_path)
            if not isinstance(nested, fx.GraphModule) or place.path not in place.layer.models:
                raise ExportError(f"cannot find the model that layer '{place.layer.name}' calls at '{place.module_path}'")
            return f"{self.model_class(nested, place.layer.models[place.path])}()"
        target = target_class(record.target)
        if record.target.startswith("torch.nn:"):
            self.collector.imports.add("from torch import nn")
            name = "nn." + record.target.partition(":")[2]
        else:  # a modelspec.nn class: its source is copied into the file
            name = self.collector.add_object(target)
        arguments = [
            (f"{keyword}=" if keyword else "") + self.argument(value, place.inside(parameter))
            for keyword, parameter, value in call_arguments(target, record)
        ]
        return f"{name}({', '.join(arguments)})"

    def argument(self, value: Any, place: Place) -> str:
        """A constructor argument: a plain value, or the record of a wrapped layer's module (the submodule `place`)."""
        if isinstance(value, ModuleRecord):
            return self.construction(value, place)
        if isinstance(value, list) and any(isinstance(v, ModuleRecord) for v in value):
            return "[" + ", ".join(self.argument(v, place) for v in value) + "]"
        if isinstance(value, tuple) and any(isinstance(v, ModuleRecord) for v in value):
            inner = ", ".join(self.argument(v, place) for v in value)
            return f"({inner},)" if len(value) == 1 else f"({inner})"
        return self.expression(value)

    def function(self, target: Any) -> str:
        """How the forward calls a call_function target: torch.relu, F.softplus, or a copied modelspec function."""
        name = getattr(target, "__name__", None)
        if name is not None:
            if getattr(torch, name, None) is target:
                self.collector.imports.add("import torch")
                return f"torch.{name}"
            if getattr(torch.nn.functional, name, None) is target:
                self.collector.imports.add("import torch.nn.functional as F")
                return f"F.{name}"
            if _is_modelspec(getattr(target, "__module__", "") or ""):
                return self.collector.add_object(target)
        raise ExportError(f"cannot write a call of {target!r} as Python source")

    # ----- model classes --------------------------------------------------------------------------
    def model_class(self, module: fx.GraphModule, graph: Graph, *, main: bool = False) -> str:
        """The class of a compiled graph (written once per module), its layers built from their records."""
        if id(module) in self.classes:
            return self.classes[id(module)]
        name = _class_name(type(module).__name__, taken=set(self.collector.names) | set(self.classes.values()))
        self.classes[id(module)] = name
        moved = module.meta.get(LAYER_ATTRIBUTES, {})
        layer_of = {attribute: layer for layer, attribute in moved.items()}
        children = [(attribute, self.layer_module(module, graph.layers[layer_of.get(attribute, attribute)])) for attribute, _ in module.named_children()]
        forward = self.forward_source(module.graph)
        described = self.class_docstring(type(module).__name__, graph if main else None)
        lines = [f"class {name}(nn.Module):", f'    """{described}"""', ""]
        lines += ["    def __init__(self) -> None:", "        super().__init__()"]
        lines += [f"        self.{attribute} = {expression}" for attribute, expression in children]
        lines += self.weight_names(moved)
        lines += ["", *forward]
        if main:
            lines += [
                "",
                "    @classmethod",
                f'    def load(cls, weights_path: str) -> "{name}":',
                '        """Build the model and load the trained weights of a modelspec safetensors file (keys `layer.weight`)."""',
                "        model = cls()",
                "        model.load_state_dict(load_file(weights_path))",
                "        return model.eval()",
            ]
        self.model_sources.append("\n".join(lines) + "\n")
        return name

    def weight_names(self, moved: dict[str, str]) -> list[str]:
        """The lines of __init__ that key by layer name the weights of layers held by another attribute (`class`: `class_`)."""
        if not moved:
            return []
        self.collector.imports.add("from functools import partial")
        out, into = self.collector.add_object(weights_by_layer_name), self.collector.add_object(weights_to_attributes)
        return [f"        names = {self.expression(moved)}  # layer: its attribute; the weights keep the layer's name",
                f"        self.register_state_dict_post_hook(partial({out}, names=names))",
                f"        self.register_load_state_dict_pre_hook(partial({into}, names=names))"]

    def class_docstring(self, model_name: str, graph: Graph | None) -> str:
        if graph is None:
            return f"The model '{model_name}', called like a layer."
        inputs = ", ".join(f"{n} {_shape(s.shape)} {s.dtype}" for n, s in graph.inputs.items())
        outputs = ", ".join(f"{n} {_shape(s)}" for n, s in graph.output_shapes.items())
        return f"The model '{model_name}'.\n\n    Inputs: {inputs}.\n    Outputs: {outputs}.\n    "

    def forward_source(self, code: fx.Graph) -> list[str]:
        """The graph's nodes as straight-line Python, variables named after the layers."""
        names: dict[fx.Node, str] = {}
        functions = {node: self.function(node.target) for node in code.nodes if node.op == "call_function" and node.target is not operator.getitem}
        taken = set(self.collector.names) | {"self", "torch", "nn", "F", "load_file"}
        body: list[str] = []
        params: list[str] = []
        for node in code.nodes:
            if node.op == "placeholder":
                names[node] = _local_name(node.name, taken)
                params.append(names[node])
                continue
            if node.op == "get_attr":  # a submodule or weight passed to a function: used as self.<target>
                names[node] = _attribute(node.target)
                continue
            if node.op == "output":
                result = node.args[0]
                values = result if isinstance(result, (tuple, list)) else (result,)
                body.append("return " + ", ".join(self._argument(v, names) for v in values))
                continue
            args = ", ".join([self._argument(a, names) for a in node.args] + [f"{k}={self._argument(v, names)}" for k, v in node.kwargs.items()])
            if node.op == "call_module":
                call = f"{_attribute(node.target)}({args})"
            elif node.op == "call_function" and node.target is operator.getitem:
                call = f"{self._argument(node.args[0], names)}[{self._argument(node.args[1], names)}]"
            elif node.op == "call_function":
                call = f"{functions[node]}({args})"
            else:
                raise ExportError(f"cannot write the graph node {node.format_node()} as Python source")
            names[node] = _variable(node, names, taken)
            body.append(f"{names[node]} = {call}")
        signature = ", ".join(["self", *(f"{p}: torch.Tensor" for p in params)])
        return [f"    def forward({signature}):", *(f"        {line}" for line in body)]

    def _argument(self, value: Any, names: dict[fx.Node, str]) -> str:
        if isinstance(value, fx.Node):
            return names[value]
        if isinstance(value, (tuple, list)):
            inner = ", ".join(self._argument(v, names) for v in value)
            if isinstance(value, tuple):
                return f"({inner},)" if len(value) == 1 else f"({inner})"
            return f"[{inner}]"
        return self.expression(value)


def _variable(node: fx.Node, names: dict[fx.Node, str], taken: set[str]) -> str:
    """An activation applied to a layer's only use keeps the layer's name: `dense = torch.relu(dense)`."""
    if node.op == "call_function" and node.target is not operator.getitem and len(node.args) == 1:
        source = node.args[0]
        if isinstance(source, fx.Node) and source.op == "call_module" and len(source.users) == 1:
            return names[source]
    return _local_name(node.name, taken)


def _attribute(name: str) -> str:
    """How forward reads the submodule `name` (an attribute modelspec.reserved_names chose: never a keyword or mangled)."""
    return f"self.{name}"


def _local_name(name: str, taken: set[str]) -> str:
    candidate = name
    while keyword.iskeyword(candidate) or candidate in taken or hasattr(builtins, candidate):
        candidate += "_"
    taken.add(candidate)
    return candidate


def _class_name(model_name: str, taken: set[str]) -> str:
    base = "".join(part[:1].upper() + part[1:] for part in re.split(r"_+", model_name) if part) or "Model"
    if not base[0].isalpha():
        base = "Model" + base
    name = base
    while name in taken or keyword.iskeyword(name) or hasattr(builtins, name) or name in ("F", "nn", "torch"):
        name += "Model"
    return name


def _shape(shape: tuple) -> str:
    return "(" + ", ".join("batch" if i == 0 and d is None else ("None" if d is None else str(d)) for i, d in enumerate(shape)) + ")"


# ----- the file -------------------------------------------------------------------------------------
def python_source(graph: Graph, *, spec_file: str = "") -> tuple[str, str]:
    """The source of the standalone file, and the name of its main class."""
    module = build_module(graph)
    writer = Writer()
    main = writer.model_class(module, graph, main=True)
    imports = {"from torch import nn", "import torch", "from safetensors.torch import load_file"} | writer.collector.imports
    header = [
        f'"""{graph.name}: the model of {spec_file or "a modelspec spec"}, as standalone PyTorch (written by `modelspec export`).',
        "",
        "Needs only torch and safetensors. The trained weights are modelspec's safetensors file:",
        "",
        f'    model = {main}.load("model.safetensors")',
        f"    {_call_example(graph)}",
        "",
        "Tensors are channels_last as in the spec (Keras's layout); the layers compute in PyTorch's inside.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *_sorted_imports(imports),
    ]
    parts = ["\n".join(header) + "\n"]
    current = None
    for definition in writer.collector.ordered():
        module_name, title = definition.key[0], ""
        if module_name != current:
            origin = module_name.replace(".", "/") + ".py"
            title = f"# ----- copied from {origin} " + "-" * max(4, 84 - len(origin)) + "\n"
            current = module_name
        parts.append(title + definition.source.rstrip("\n") + "\n")
    models = [source.rstrip("\n") + "\n" for source in writer.model_sources]
    models[0] = "# ----- the model " + "-" * 84 + "\n" + models[0]
    return "\n\n".join(parts + models), main


def _call_example(graph: Graph) -> str:
    outputs = ", ".join(graph.outputs)
    return f"{outputs} = model({', '.join(graph.inputs)})"


def _sorted_imports(lines: set[str]) -> list[str]:
    """`import x` lines, then one `from x import a, b` line per module."""
    plain = sorted(line for line in lines if line.startswith("import "))
    grouped: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("from "):
            module, _, names = line[len("from "):].partition(" import ")
            grouped.setdefault(module, []).append(names)
    return plain + [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(grouped.items())]


def load_generated(path: Path) -> types.ModuleType:
    """Import a written file under a fresh module name (for the self-check)."""
    name = f"_modelspec_export_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path, loader=importlib.machinery.SourceFileLoader(name, str(path)))
    if spec is None or spec.loader is None:
        raise ExportError(f"cannot import the written file '{path}'")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def check_source(path: Path, class_name: str, reference: nn.Module, graph: Graph) -> float:
    """Largest difference between the written class (with the reference's weights) and the reference on a sample batch."""
    try:
        written = load_generated(path)
        model = getattr(written, class_name)()
        model.load_state_dict(reference.state_dict())
        model.eval()
        inputs = sample_inputs(graph, 3, seed=1)
        with torch.no_grad():
            return max_difference(outputs_tuple(reference.eval()(*inputs)), outputs_tuple(model(*inputs)))
    except ExportError:
        raise
    except Exception as error:  # noqa: BLE001 (whatever the written file raises is reported)
        raise ExportError(f"the written PyTorch source does not run: {type(error).__name__}: {error}") from None


def write_source(prepared: Any, module: nn.Module, out: Path) -> Exported:
    """`modelspec export SPEC --weights W -o model.py`: write and check the standalone file."""
    graph = prepared.graph
    text, class_name = python_source(graph, spec_file=prepared.path.name)
    found: dict[str, float] = {}

    def write(temporary: Path) -> None:
        temporary.write_text(text)
        found["difference"] = check_source(temporary, class_name, module, graph)
        if not found["difference"] <= TOLERANCE:
            raise ExportError(
                f"the written PyTorch source differs from modelspec's module by {found['difference']:.3g} on a sample batch "
                f"(tolerance {TOLERANCE}): a layer module is not rebuilt by its constructor arguments alone"
            )

    atomic_write(out, write)
    return Exported(out, "py", found["difference"])


__all__ = ["REPLACEMENTS", "call_arguments", "check_source", "python_source", "write_source"]
