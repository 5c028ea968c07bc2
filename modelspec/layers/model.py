"""Model: call a whole model like a layer, with its weights (Keras: "all models are callable").

    models:
      classifier: {sequential: [{type: Dense, units: 10, input_dim: 784}]}
    layers:
      - {type: Model, model: classifier, inputs: image}
      - {type: Model, model: {spec: encoder.yaml, weights: encoder.safetensors}, trainable: false}

The graph resolver binds the referenced model's resolved graph before asking for shapes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, PrivateAttr

from modelspec.config import Identifier, StrictModel
from modelspec.errors import ShapeError
from modelspec.layers.base import NESTED_MODEL, LayerConfig, ModuleRecord, Shape, Weight, format_shape, register

if TYPE_CHECKING:  # pragma: no cover
    from modelspec.graph import Graph


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
    _graph: Any = PrivateAttr(None)

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            raise ShapeError("the model this layer calls could not be resolved")
        return self._graph

    def bind(self, graph: Graph) -> None:
        self._graph = graph

    def default_name(self) -> str:
        if isinstance(self.model, str):
            return self.model
        return self._graph.name if self._graph is not None else "model"  # unresolved: its problem is reported

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
