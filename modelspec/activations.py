"""Activation names, as Keras spells them. The torch functions live in modelspec.nn.activations."""

from typing import Literal

ActivationName = Literal[
    "linear", "relu", "sigmoid", "tanh", "softmax", "softplus", "softsign", "selu", "elu", "gelu",
    "silu", "swish", "exponential", "hard_sigmoid", "leaky_relu", "relu6", "mish", "log_softmax",
]
