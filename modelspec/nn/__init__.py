"""Torch implementations: activations, Keras initializers, and the modules layers build."""
