"""Weight regularizers and constraints: Keras's names, defaults and penalties.

    - {type: Dense, units: 64, kernel_regularizer: {type: l1_l2, l1: 0.001, l2: 0.01}, kernel_constraint: max_norm}

- `config`: the configs (pydantic, no torch), one class each, registered by
  `@register_regularizer("module:function")` or `@register_constraint("module:function")`, which
  names its torch function; `Regularized`, the mixin of the layers that own weights;
- `runtime`: the torch penalties and projections, and `Regularization`, the terms of a compiled graph.

This package and its `config` never import torch; only `runtime` does.
"""

from modelspec.regularizers.config import (
    CONSTRAINTS,
    L1,
    L1L2,
    L2,
    REGULARIZERS,
    Constraint,
    ConstraintConfig,
    MaxNorm,
    NonNeg,
    NonNegative,
    Regularized,
    Regularizer,
    RegularizerConfig,
    UnitNorm,
    register_constraint,
    register_regularizer,
)

__all__ = [
    "CONSTRAINTS", "L1", "L1L2", "L2", "REGULARIZERS", "Constraint", "ConstraintConfig", "MaxNorm", "NonNeg",
    "NonNegative", "Regularized", "Regularizer", "RegularizerConfig", "UnitNorm",
    "register_constraint", "register_regularizer",
]
