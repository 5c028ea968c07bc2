"""Weight regularizers and constraints, with Keras's names and defaults (no torch here).

    - {type: Dense, units: 64, kernel_regularizer: l2}                          # l2 = 0.01
    - {type: Dense, units: 64, kernel_regularizer: {type: l1_l2, l1: 0.001, l2: 0.01}}
    - {type: Dense, units: 64, activity_regularizer: {type: l1, l1: 0.0001}}
    - {type: Dense, units: 64, kernel_constraint: {type: max_norm, max_value: 3}}

Layers with weights take these keys through the `Regularized` mixin; the training engine adds
the penalties to the loss (modelspec.training.regularizers) and applies constraints after each
optimizer step. Keras's penalties: l1 * sum(|w|) + l2 * sum(w^2).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field

from modelspec.config import StrictModel

NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class L1(StrictModel):
    type: Literal["l1"]
    l1: NonNegative = 0.01


class L2(StrictModel):
    type: Literal["l2"]
    l2: NonNegative = 0.01


class L1L2(StrictModel):
    """Keras: the name `l1_l2` means l1 = l2 = 0.01; a mapping defaults both to 0."""

    type: Literal["l1_l2"]
    l1: NonNegative = 0.0
    l2: NonNegative = 0.0


def _named_regularizer(value: Any) -> Any:
    if value == "l1_l2":
        return {"type": "l1_l2", "l1": 0.01, "l2": 0.01}
    return {"type": value} if isinstance(value, str) else value


Regularizer = Annotated[
    L1 | L2 | L1L2,
    Field(discriminator="type"),
    BeforeValidator(_named_regularizer, json_schema_input_type=Literal["l1", "l2", "l1_l2"] | L1 | L2 | L1L2),
]


class MaxNorm(StrictModel):
    """Rescale each unit's incoming weights to norm <= max_value (Keras axis 0 of its kernel layout)."""

    type: Literal["max_norm"]
    max_value: Annotated[float, Field(gt=0)] = 2.0


class NonNeg(StrictModel):
    type: Literal["non_neg"]


class UnitNorm(StrictModel):
    type: Literal["unit_norm"]


def _named_constraint(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


Constraint = Annotated[
    MaxNorm | NonNeg | UnitNorm,
    Field(discriminator="type"),
    BeforeValidator(_named_constraint, json_schema_input_type=Literal["max_norm", "non_neg", "unit_norm"] | MaxNorm | NonNeg | UnitNorm),
]


class Regularized(StrictModel):
    """Mixin of the layers that own weights: Keras's regularizer and constraint arguments.

    `regularized_weights` maps each argument to the weight names it applies to (torch names of
    this layer's weights); a layer whose kernel is named differently overrides it.
    """

    kernel_regularizer: Regularizer | None = Field(None, description="Penalty on the kernel added to the loss: l1, l2 or l1_l2.")
    bias_regularizer: Regularizer | None = Field(None, description="Penalty on the bias added to the loss.")
    activity_regularizer: Regularizer | None = Field(None, description="Penalty on the layer's output added to the loss.")
    kernel_constraint: Constraint | None = Field(None, description="Projection of the kernel after each update: max_norm, non_neg, unit_norm.")
    bias_constraint: Constraint | None = Field(None, description="Projection of the bias after each update.")

    regularized_weights: ClassVar[dict[str, tuple[str, ...]]] = {"kernel": ("kernel",), "bias": ("bias",)}

    def activity_penalty(self) -> Any | None:
        return self.activity_regularizer

    def weight_penalties(self) -> list[tuple[str, Any]]:
        """[(weight name, regularizer)] for this layer's weight regularizers."""
        found = []
        for role, regularizer in (("kernel", self.kernel_regularizer), ("bias", self.bias_regularizer)):
            if regularizer is not None:
                found += [(name, regularizer) for name in self.regularized_weights.get(role, ())]
        return found

    def weight_constraints(self) -> list[tuple[str, Any]]:
        """[(weight name, constraint)] for this layer's weight constraints."""
        found = []
        for role, constraint in (("kernel", self.kernel_constraint), ("bias", self.bias_constraint)):
            if constraint is not None:
                found += [(name, constraint) for name in self.regularized_weights.get(role, ())]
        return found
