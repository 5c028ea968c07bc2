"""Losses: Keras 3's names, arguments and values.

    loss: {type: categorical_crossentropy, label_smoothing: 0.1}      # in a spec

- `config`: the loss configs (pydantic, no torch) and `LOSSES`, the table that registers every loss:
  its names, aliases, config class, label kind, logits pairing and torch function;
- `runtime`: the per-sample torch functions, Keras's reduction, and `build_loss`.

This package and its `config` never import torch; only `runtime` does:

    from modelspec.losses import loss_config
    from modelspec.losses.runtime import build_loss
    loss = build_loss(loss_config("mse"))(y_true, y_pred, sample_weight)

Adding a loss: an entry in `config.LOSSES` (with a config class beside it if it takes arguments),
its per-sample function in `runtime` under the entry's name, and a case in tests/test_losses.py.
"""

from modelspec.losses.config import (
    LABEL_KINDS,
    LOSS_ALIASES,
    LOSS_NAMES,
    LOSSES,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    LabelKind,
    LossConfig,
    LossKind,
    LossName,
    LossSpec,
    PlainLoss,
    SparseCategoricalCrossentropy,
    logits_variant,
    loss_config,
    loss_kind,
)

__all__ = [
    "LABEL_KINDS", "LOSSES", "LOSS_ALIASES", "LOSS_NAMES",
    "BinaryCrossentropy", "CategoricalCrossentropy", "Huber", "LabelKind", "LossConfig", "LossKind", "LossName",
    "LossSpec", "PlainLoss", "SparseCategoricalCrossentropy",
    "logits_variant", "loss_config", "loss_kind",
]
