"""Identity: returns its input unchanged (a placeholder, or a named point in the graph).

    - {type: Identity, name: features}
"""

from __future__ import annotations

from typing import Literal

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register


@register
class Identity(LayerConfig):
    """output = input, mask included."""

    type: Literal["Identity"]

    family = "core"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("torch.nn:Identity")
