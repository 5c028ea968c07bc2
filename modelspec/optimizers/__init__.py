"""Optimizers and learning-rate schedules: Keras 3's names, defaults and update rules.

    optimizer: {type: adam, learning_rate: {type: CosineDecay, initial_learning_rate: 0.001, decay_steps: 10000}}

- `config`: the optimizer configs (pydantic, no torch), one class each, registered by
  `@register_optimizer("module:Class")`, which names its torch implementation;
- `schedules`: the learning-rate schedules (pydantic, no torch; `value(step)` is plain Python);
- `runtime`: the torch optimizers (KerasOptimizer and one subclass per config) and `build_optimizer`.

This package and its `config` and `schedules` never import torch; only `runtime` does:

    from modelspec.optimizers import optimizer_config
    from modelspec.optimizers.runtime import build_optimizer
    optimizer = build_optimizer(optimizer_config({"type": "sgd", "momentum": 0.9}), model.parameters())
"""

from modelspec.optimizers.config import (
    OPTIMIZER_IDENTIFIERS,
    OPTIMIZER_NAMES,
    OPTIMIZERS,
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    BaseOptimizer,
    Nadam,
    OptimizerConfig,
    OptimizerName,
    OptimizerSpec,
    RMSprop,
    optimizer_config,
    register_optimizer,
)
from modelspec.optimizers.schedules import (
    SCHEDULES,
    CosineDecay,
    ExponentialDecay,
    LearningRate,
    LearningRateSchedule,
    PiecewiseConstantDecay,
    ScheduleConfig,
    register_schedule,
)

__all__ = [
    "OPTIMIZERS",
    "OPTIMIZER_IDENTIFIERS",
    "OPTIMIZER_NAMES",
    "SCHEDULES",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "BaseOptimizer",
    "CosineDecay",
    "ExponentialDecay",
    "LearningRate",
    "LearningRateSchedule",
    "Nadam",
    "OptimizerConfig",
    "OptimizerName",
    "OptimizerSpec",
    "PiecewiseConstantDecay",
    "RMSprop",
    "ScheduleConfig",
    "optimizer_config",
    "register_optimizer",
    "register_schedule",
]
