"""Refuse what would not fit before allocating it: models (weights and one batch's activations) and data.

    check_memory(graph, training=True, batch_size=32)   # ResourceError with the estimate, unless force
    check_allocation(10**12 * 16, "array 'x' of 'big.npz'")   # the same for any one allocation
    readable_size(2_674_688)                            # '2.55 MB', as Keras writes sizes
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from modelspec.errors import ModelspecError

if TYPE_CHECKING:
    from modelspec.graph import Graph

#: Copies of each weight while training: the weights, their gradients and up to two optimizer slots.
TRAINING_COPIES = 4
#: Copies of each activation while training: the value kept for the backward pass and its gradient.
ACTIVATION_TRAINING_COPIES = 2
#: Bytes of one activation value (float32).
ACTIVATION_BYTES = 4

FORCE_HINT = "nothing was allocated (use --force to try anyway)"


def readable_size(num_bytes: float) -> str:
    """Keras's memory size text: 2.55 MB (1024-based)."""
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}" if unit != "B" else f"{int(num_bytes)} B"
        num_bytes /= 1024
    return f"{num_bytes:.2f} TB"


class ResourceError(ModelspecError):
    """The model or its data would not fit in this machine's memory."""


def available_memory() -> int | None:
    """Bytes of memory available now (Linux's MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def fits(needed: int, *, available: int | None = None, force: bool = False) -> tuple[bool, int | None]:
    """(whether `needed` bytes fit, the available bytes compared with): always True with `force` or when unknown."""
    available = available_memory() if available is None else available
    return force or available is None or needed <= available, available


def check_allocation(needed: int, what: str, *, available: int | None = None, force: bool = False) -> None:
    """ResourceError when `what`, needing `needed` bytes, exceeds the available memory, unless `force`."""
    ok, available = fits(needed, available=available, force=force)
    if not ok:
        raise ResourceError(f"{what} would take about {readable_size(needed)} of memory, more than the "
                            f"{readable_size(available)} available here; {FORCE_HINT}")


def _values(shape: tuple[int | None, ...], batch_size: int) -> int:
    """Values of a tensor of `shape` in a batch: an unknown batch dimension is `batch_size`, other unknown ones 1."""
    return math.prod(batch_size if d is None and i == 0 else 1 if d is None else d for i, d in enumerate(shape))


def activation_values(graph: Graph, batch_size: int) -> int:
    """Values the inputs and the outputs of every node (nested models' included) hold for one batch."""
    total = sum(_values(tensor.shape, batch_size) for tensor in graph.inputs.values())
    for node in graph.order:
        total += sum(_values(shape, batch_size) for shape in node.output_shapes or ())
        total += sum(activation_values(sub, batch_size) for sub in node.layer.submodels())
    return total


def check_memory(graph: Graph, *, training: bool, available: int | None = None, force: bool = False, batch_size: int | None = None) -> None:
    """ResourceError when the float32 weights (x4 to train), plus one batch's activations (x2 to train)
    when `batch_size` is given, exceed the available memory, unless `force`."""
    params = graph.total_params
    weights = params * 4 * (TRAINING_COPIES if training else 1)
    activations = 0 if batch_size is None else activation_values(graph, batch_size) * ACTIVATION_BYTES * (ACTIVATION_TRAINING_COPIES if training else 1)
    ok, available = fits(weights + activations, available=available, force=force)
    if ok:
        return
    what = "to train (weights, gradients and optimizer state)" if training else "for its weights"
    parts = f"about {readable_size(weights)} {what}"
    if activations:
        parts += f" and {readable_size(activations)} for the activations of a batch of {batch_size}" + (" (and their gradients)" if training else "")
    raise ResourceError(
        f"model '{graph.name}' has {params:,} parameters: {parts}, "
        f"more than the {readable_size(available)} of memory available here; {FORCE_HINT}"
    )
