"""The object form of each name a spec may give a kind by: `adam` is {type: adam}, `l1_l2` is
{type: l1_l2, l1: 0.01, l2: 0.01}. No torch.

`--set compile.optimizer.learning_rate=0.01` on `optimizer: adam` writes the name's object form,
then the field (modelspec.overrides). The forms come from each kind's registry, so a new optimizer,
loss, metric, regularizer, constraint or callback has its form without a change here. Activations
and initializers are names only: they have no object form.

Example:
    object_forms()["l1_l2"]   # {'type': 'l1_l2', 'l1': 0.01, 'l2': 0.01}
    "relu" in object_forms()  # False
"""

from __future__ import annotations

import functools
from typing import Any


def _registries() -> list[dict[str, dict[str, Any]]]:
    """name -> object form, one table per kind; imported when a --set first needs one (not on every command)."""
    from modelspec.callbacks.config import CALLBACKS
    from modelspec.losses.config import LOSS_NAMES
    from modelspec.metrics.config import METRIC_NAMES
    from modelspec.optimizers.config import OPTIMIZER_IDENTIFIERS
    from modelspec.regularizers.config import CONSTRAINTS, REGULARIZERS

    named = [{name: {"type": name, **cls.named_defaults} for name, cls in table.items()} for table in (REGULARIZERS, CONSTRAINTS)]
    plain = [{name: {"type": name} for name in names} for names in (OPTIMIZER_IDENTIFIERS, LOSS_NAMES, METRIC_NAMES, CALLBACKS)]
    return named + plain


@functools.cache
def object_forms() -> dict[str, dict[str, Any]]:
    """Every name that has an object form -> that form. A name two kinds share has the same form in both."""
    forms: dict[str, dict[str, Any]] = {}
    for table in _registries():
        for name, form in table.items():
            if forms.setdefault(name, form) != form:
                raise ValueError(f"the name {name!r} has two object forms: {forms[name]} and {form}")
    return forms
