"""TimeDistributed: apply a layer or a whole model to every time step of its input.

    - {type: TimeDistributed, layer: {type: Dense, units: 8}, inputs: frames}       # (None, 20, 16) -> (None, 20, 8)
    - {type: TimeDistributed, layer: {model: frame_classifier}, inputs: video}      # image classifier -> video classifier

The wrapped layer sees (batch, *step_shape); its weights are the wrapped layer's, applied at every step.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.errors import ShapeError
from modelspec.layers import AnyLayer
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, Weight, format_shape, module_record, register


@register
class TimeDistributed(LayerConfig):
    """Applies `layer` independently to each slice along axis 1 (time)."""

    type: Literal["TimeDistributed"]
    layer: AnyLayer = Field(description="The layer applied at each time step: a layer config, or {model: NAME}.")

    family = "recurrent"
    propagates_mask = True
    wraps_layer = True

    def named_nested_layers(self) -> dict[str, LayerConfig]:
        return {"layer": self.layer}

    def _step_shape(self, input_shapes: list[Shape]) -> Shape:
        shape = self.single(input_shapes)
        if len(shape) < 3:
            raise ShapeError(
                f"TimeDistributed expects an input of rank 3 or more (batch, time, ...), received shape {format_shape(shape)}"
            )
        return (shape[0], *shape[2:])

    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        batch, time = input_shapes[0][0], input_shapes[0][1] if len(input_shapes[0]) > 1 else None
        inner = self.layer.output_shapes([self._step_shape(input_shapes)])
        return [(batch, time, *shape[1:]) for shape in inner]

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        inner = self.layer.weights([self._step_shape(input_shapes)])
        return {f"layer.{name}": weight for name, weight in inner.items()}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        step = self._step_shape(input_shapes)
        return module_record("modelspec.nn.time_distributed:TimeDistributedModule", self.layer.module([step]), self.layer.output_activation())
