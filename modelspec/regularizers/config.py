"""Weight regularizers and constraints, with Keras's names and defaults (no torch here).

    - {type: Dense, units: 64, kernel_regularizer: l2}                          # l2 = 0.01
    - {type: Dense, units: 64, kernel_regularizer: {type: l1_l2, l1: 0.001, l2: 0.01}}
    - {type: Dense, units: 64, activity_regularizer: {type: l1, l1: 0.0001}}
    - {type: Dense, units: 64, kernel_constraint: {type: max_norm, max_value: 3}}

Layers with weights take these keys through the `Regularized` mixin; the training engine adds
the penalties to the loss (modelspec.regularizers.runtime) and applies constraints after each
optimizer step. Keras's penalties: l1 * sum(|w|) + l2 * sum(w^2).

A regularizer or a constraint is one class here, registered by `@register_regularizer("module:function")`
or `@register_constraint("module:function")`: its `type` literal is its name, its fields its schema,
`named_defaults` what its bare name means (Keras: `l1_l2` alone is l1 = l2 = 0.01), and the reference
names its torch function in modelspec.regularizers.runtime (`penalty(config, tensor) -> Tensor`, or
`project(config, parameter)` in place), imported only when a model is trained.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union

from pydantic import BeforeValidator, Field

from modelspec.config import StrictModel
from modelspec.implementation import check_reference

NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class RegularizerConfig(StrictModel):
    """A penalty on a tensor added to the loss."""

    #: "module:function" of the torch penalty, set by register_regularizer.
    implementation: ClassVar[str]
    #: The arguments a bare name stands for (`kernel_regularizer: l2`), beside its `type`.
    named_defaults: ClassVar[dict[str, Any]] = {}

    type: str


class ConstraintConfig(StrictModel):
    """A projection of a weight after each optimizer step."""

    #: "module:function" of the torch projection, set by register_constraint.
    implementation: ClassVar[str]
    named_defaults: ClassVar[dict[str, Any]] = {}

    type: str


REGULARIZERS: dict[str, type[RegularizerConfig]] = {}
CONSTRAINTS: dict[str, type[ConstraintConfig]] = {}
K = TypeVar("K", bound=type[StrictModel])


def _registrar(table: dict[str, Any], implementation: str) -> Callable[[K], K]:
    check_reference(implementation)

    def register(cls: K) -> K:
        (name,) = cls.model_fields["type"].annotation.__args__
        cls.implementation = implementation
        table[name] = cls
        return cls

    return register


def register_regularizer(implementation: str) -> Callable[[K], K]:
    """Class decorator: add a regularizer under its `type` name, its penalty at `implementation`."""
    return _registrar(REGULARIZERS, implementation)


def register_constraint(implementation: str) -> Callable[[K], K]:
    """Class decorator: add a constraint under its `type` name, its projection at `implementation`."""
    return _registrar(CONSTRAINTS, implementation)


def _expand(table: dict[str, Any], value: Any) -> Any:
    """A registered bare name becomes {type: name, **its named_defaults}; other names and mappings pass."""
    if isinstance(value, str):
        cls = table.get(value)
        return {"type": value, **(cls.named_defaults if cls is not None else {})}
    return value


# Module-level, not closures: the schema cache pickles validators by reference to their functions.
def _named_regularizer(value: Any) -> Any:
    return _expand(REGULARIZERS, value)


def _named_constraint(value: Any) -> Any:
    return _expand(CONSTRAINTS, value)


def _union(table: dict[str, Any], named: Callable[[Any], Any]) -> Any:
    """The registered configs of `table`, discriminated on `type`, a bare name accepted through `named`."""
    configs = Union[tuple(table.values())]  # noqa: UP007 (a runtime-built union)
    return Annotated[
        configs,
        Field(discriminator="type"),
        BeforeValidator(named, json_schema_input_type=Union[Literal[tuple(table)], configs]),  # noqa: UP007
    ]


@register_regularizer("modelspec.regularizers.runtime:l1_penalty")
class L1(RegularizerConfig):
    type: Literal["l1"]
    l1: NonNegative = 0.01


@register_regularizer("modelspec.regularizers.runtime:l2_penalty")
class L2(RegularizerConfig):
    type: Literal["l2"]
    l2: NonNegative = 0.01


@register_regularizer("modelspec.regularizers.runtime:l1_l2_penalty")
class L1L2(RegularizerConfig):
    """Keras: the name `l1_l2` means l1 = l2 = 0.01; a mapping defaults both to 0."""

    named_defaults: ClassVar[dict[str, Any]] = {"l1": 0.01, "l2": 0.01}

    type: Literal["l1_l2"]
    l1: NonNegative = 0.0
    l2: NonNegative = 0.0


#: A regularizer: a registered name or a config mapping.
Regularizer = _union(REGULARIZERS, _named_regularizer)


@register_constraint("modelspec.regularizers.runtime:max_norm")
class MaxNorm(ConstraintConfig):
    """Rescale each unit's incoming weights to norm <= max_value (Keras axis 0 of its kernel layout)."""

    type: Literal["max_norm"]
    max_value: Annotated[float, Field(gt=0)] = 2.0


@register_constraint("modelspec.regularizers.runtime:non_neg")
class NonNeg(ConstraintConfig):
    type: Literal["non_neg"]


@register_constraint("modelspec.regularizers.runtime:unit_norm")
class UnitNorm(ConstraintConfig):
    type: Literal["unit_norm"]


#: A constraint: a registered name or a config mapping.
Constraint = _union(CONSTRAINTS, _named_constraint)


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
