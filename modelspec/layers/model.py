"""Model: call a whole model like a layer, with its weights (Keras: "all models are callable").

    models:
      classifier: {sequential: [{type: Dense, units: 10, input_dim: 784}]}
    layers:
      - {type: Model, model: classifier, inputs: image}
      - {type: Model, model: {spec: encoder.yaml, weights: encoder.safetensors}, trainable: false}

The config holds only the reference. The graph resolver resolves the models a spec file calls
and records each one's graph on the resolved layer (`ResolvedLayer.models`, `Graph.submodels`);
while it asks for shapes, the models of the file being resolved are in scope (`calling`), which is
how this layer's shape rules find the graph they delegate to. The torch builder compiles the
nested graph and loads its weights in place of `module`'s placeholder.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from modelspec.config import Identifier, StrictModel
from modelspec.errors import ShapeError
from modelspec.layers.base import NESTED_MODEL, LayerConfig, ModuleRecord, Shape, Weight, format_shape, register

if TYPE_CHECKING:  # pragma: no cover
    from modelspec.graph import Graph

#: The resolved graphs of the models that Model layers of the spec file being resolved may call, by reference.
_IN_SCOPE: ContextVar[Mapping[Hashable, Graph]] = ContextVar("modelspec_models_in_scope", default=MappingProxyType({}))


@contextmanager
def calling(models: Mapping[Hashable, Graph]) -> Iterator[None]:
    """Within this block, Model layers find the graphs of the models they call in `models` (by `Model.reference`)."""
    token = _IN_SCOPE.set(models)
    try:
        yield
    finally:
        _IN_SCOPE.reset(token)


class ExternalModel(StrictModel):
    """A model defined in another spec file, optionally with trained weights."""

    spec: str = Field(description="Path of the spec file, relative to this spec's folder.")
    weights: str | None = Field(None, description="A .safetensors file of that model's trained weights.")


@register
class Model(LayerConfig):
    """A named model from `models:` (or another spec file) called on tensors; weights are shared across calls."""

    type: Literal["Model"] = "Model"
    model: Identifier | ExternalModel = Field(description="Name of a model under `models:`, or {spec: file.yaml, weights: file.safetensors}.")

    family = "models"
    arity = (1, None)

    @property
    def reference(self) -> Hashable:
        """The key of the called model in its spec file's scope: its name, or (spec file, weights file)."""
        return self.model if isinstance(self.model, str) else (self.model.spec, self.model.weights)

    @property
    def graph(self) -> Graph:
        """The called model's resolved graph, while its spec file is resolved."""
        graph = _IN_SCOPE.get().get(self.reference)
        if graph is None:
            raise ShapeError("the model this layer calls could not be resolved")
        return graph

    def default_name(self) -> str:
        if isinstance(self.model, str):
            return self.model
        graph = _IN_SCOPE.get().get(self.reference)
        return graph.name if graph is not None else "model"  # unresolved: its problem is reported

    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        inputs = list(self.graph.inputs.values())
        if len(input_shapes) != len(inputs):
            raise ShapeError(
                f"model '{self.graph.name}' takes {len(inputs)} input(s) ({', '.join(i.name for i in inputs)}), received {len(input_shapes)}"
            )
        for given, expected in zip(input_shapes, inputs):
            if not shapes_compatible(given[1:], expected.shape[1:]):
                raise ShapeError(
                    f"model '{self.graph.name}' input '{expected.name}' expects {format_shape(expected.shape)}, received {format_shape(given)}"
                )
        batch = input_shapes[0][0]
        return [(batch, *shape[1:]) for shape in self.graph.output_shapes.values()]

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        return {name: Weight(w.shape, w.trainable and self.trainable) for name, w in self.graph.weights().items()}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        """A placeholder module: the torch builder (modelspec.torch_build) puts the compiled nested graph in its place."""
        return NESTED_MODEL


def shapes_compatible(given: Shape, expected: Shape) -> bool:
    """Same rank and equal dimensions wherever both are known."""
    return len(given) == len(expected) and all(a is None or b is None or a == b for a, b in zip(given, expected))


def called_models(config: LayerConfig, path: str = "") -> Iterator[tuple[str, Model]]:
    """(module path relative to the layer, Model config) of each model a layer calls: itself ('') or wrapped."""
    if isinstance(config, Model):
        yield path, config
    for name, inner in config.named_nested_layers().items():
        yield from called_models(inner, f"{path}.{name}" if path else name)
