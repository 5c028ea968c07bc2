"""modelspec: Keras-style models as YAML specs, validated with line numbers and run on PyTorch.

The library flows one way: YAML text -> located data -> pydantic Spec -> resolved graph
(shapes and parameter counts, no torch) -> torch module -> training loop. Nothing here
imports click, and nothing on the validate/summary path imports torch.
"""

__version__ = "0.1.0"
