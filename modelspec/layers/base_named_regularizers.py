"""Weight regularizers for layers whose Keras arguments name the weight (gamma_regularizer, alpha_constraint, ...).

Not a layer type itself (no `type`, not registered).

`Regularized` gives the kernel_/bias_ keys of Dense and Conv2D. PReLU and the normalization layers
take Keras's own names instead: this mixin removes the kernel_/bias_ keys (redeclared as class
variables, so pydantic drops them and a spec that uses them gets `extra_forbidden`) and turns each
weight's `<weight>_regularizer` / `<weight>_constraint` fields into the (weight, config) pairs the
training engine reads. `activity_regularizer` stays, as on every Keras layer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modelspec.regularizers import Regularized


class NamedWeightRegularized(Regularized):
    """Subclasses declare `<weight>_regularizer` and `<weight>_constraint` fields and list their weights in `penalized_weights`."""

    kernel_regularizer: ClassVar[None] = None
    bias_regularizer: ClassVar[None] = None
    kernel_constraint: ClassVar[None] = None
    bias_constraint: ClassVar[None] = None

    regularized_weights: ClassVar[dict[str, tuple[str, ...]]] = {}

    def penalized_weights(self) -> tuple[str, ...]:
        """Names of the weights this layer creates that take a regularizer and a constraint (gamma, beta, alpha)."""
        raise NotImplementedError

    def weight_penalties(self) -> list[tuple[str, Any]]:
        return self._by_weight("regularizer")

    def weight_constraints(self) -> list[tuple[str, Any]]:
        return self._by_weight("constraint")

    def _by_weight(self, kind: str) -> list[tuple[str, Any]]:
        found = [(name, getattr(self, f"{name}_{kind}")) for name in self.penalized_weights()]
        return [(name, config) for name, config in found if config is not None]
