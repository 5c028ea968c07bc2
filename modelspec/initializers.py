"""Initializer names, as Keras spells them. The torch implementations live in modelspec.nn.init.

Defaults follow Keras: glorot_uniform kernels, zero biases, orthogonal recurrent kernels,
uniform(-0.05, 0.05) embeddings.
"""

from typing import Literal

InitializerName = Literal[
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
    "orthogonal", "zeros", "ones", "random_uniform", "random_normal", "truncated_normal", "uniform",
    "normal", "identity",
]
