"""Weights files: a torch module's state in safetensors, keyed by `layer.weight`, written atomically
(modelspec.files) and read back with every missing, unexpected or mis-shaped tensor listed. Used by the
torch builder (nested models' weights), training, evaluation, prediction and export.

    save_weights(module, "runs/mnist/model.safetensors")
    load_weights(module, "runs/mnist/model.safetensors")
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from modelspec.errors import WeightsError
from modelspec.files import atomic_write


def save_weights(module: nn.Module, path: str | Path) -> None:
    """Save the module's state (parameters and persistent buffers) as safetensors, keyed `layer.weight`."""
    from safetensors.torch import save_file

    state = {name: tensor.detach().to("cpu").contiguous() for name, tensor in module.state_dict().items()}
    atomic_write(path, lambda temporary: save_file(state, str(temporary), metadata={"format": "pt", "writer": "modelspec"}))


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; WeightsError when it is missing or not a safetensors file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file '{path}' not found")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise WeightsError(f"cannot read weights file '{path}': {error} (expected a .safetensors file written by modelspec)") from None


def castable(saved: torch.dtype, needed: torch.dtype) -> bool:
    """Whether a saved tensor of dtype `saved` may be loaded as `needed`: the same dtype, or floating-point to floating-point."""
    return saved == needed or (saved.is_floating_point and needed.is_floating_point)


def load_weights(module: nn.Module, path: str | Path) -> None:
    """Load weights saved for this model; WeightsError lists every missing, unexpected, mis-shaped or mistyped tensor
    (an integer, boolean or complex tensor where the model has another dtype; floating-point ones are cast)."""
    tensors = read_weights(path)
    expected = module.state_dict()
    problems = [f"missing '{name}' {tuple(t.shape)}" for name, t in expected.items() if name not in tensors]
    problems += [f"unexpected '{name}' {tuple(t.shape)}" for name, t in tensors.items() if name not in expected]
    problems += [
        f"'{name}' has shape {tuple(tensors[name].shape)}, the model needs {tuple(t.shape)}"
        for name, t in expected.items()
        if name in tensors and tensors[name].shape != t.shape
    ]
    problems += [
        f"'{name}' is {tensors[name].dtype}, the model needs {t.dtype} (only floating-point weights are cast, e.g. float16 to float32)"
        for name, t in expected.items()
        if name in tensors and not castable(tensors[name].dtype, t.dtype)
    ]
    if problems:
        listed = "\n  ".join(problems)
        raise WeightsError(f"weights file '{path}' does not fit this model (saved from a different spec?):\n  {listed}")
    module.load_state_dict({name: t.to(expected[name].dtype) for name, t in tensors.items()})
