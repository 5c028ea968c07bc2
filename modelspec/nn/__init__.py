"""Torch implementations: activations, Keras initializers, and the modules layers make.

A layer config names its module as data (`LayerConfig.module(input_shapes)`, a ModuleRecord whose
target is a class here or in torch.nn); `modelspec.nn.build.instantiate` makes it. The arithmetic the
modules share with the shape rules (padding, crops) lives in the torch-free `modelspec.shapes`.
"""
