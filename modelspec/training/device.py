"""--device: the torch device a name asks for, checked against what this machine has.

    resolve_device("auto")   # cuda where available, else cpu
"""

from __future__ import annotations

import re

import torch

from modelspec.errors import UsageError


def resolve_device(name: str) -> torch.device:
    """--device: auto, cpu, cuda, cuda:N (a GPU this machine has) or mps (where available); UsageError otherwise."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise UsageError("--device mps: no MPS device is available here (use --device cpu or auto)")
        return torch.device("mps")
    cuda = re.fullmatch(r"cuda(?::(\d+))?", name)
    if cuda is None:
        raise UsageError(f"--device {name!r}: expected 'auto', 'cpu', 'cuda', 'cuda:N' (N a GPU's index) or 'mps'")
    if not torch.cuda.is_available():
        raise UsageError(f"--device {name}: no CUDA device is available here (use --device cpu or auto)")
    count = torch.cuda.device_count()
    if cuda.group(1) is not None and int(cuda.group(1)) >= count:
        raise UsageError(f"--device {name}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    return torch.device(name)
