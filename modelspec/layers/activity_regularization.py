"""ActivityRegularization: add l1 * sum(|x|) + l2 * sum(x^2) of its input to the loss; the output is the input.

    - {type: ActivityRegularization, l1: 0.0001}
    - {type: ActivityRegularization, l1: 0.001, l2: 0.01}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record, register
from modelspec.regularizers import L1L2, NonNegative


@register
class ActivityRegularization(LayerConfig):
    """An identity whose output the training engine penalizes (Keras's activity_regularizer = L1L2(l1, l2))."""

    type: Literal["ActivityRegularization"]
    l1: NonNegative = Field(0.0, description="L1 factor, >= 0.")
    l2: NonNegative = Field(0.0, description="L2 factor, >= 0.")

    family = "regularization"
    propagates_mask = True

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def activity_penalty(self) -> L1L2:
        return L1L2(type="l1_l2", l1=self.l1, l2=self.l2)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("torch.nn:Identity")
