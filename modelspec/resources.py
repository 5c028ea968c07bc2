"""Refuse absurd models before allocating them: an estimate of the memory weights need.

    check_memory(graph, training=True)   # raises ResourceError with the estimate, unless force
"""

from __future__ import annotations

import os

from modelspec.errors import ModelspecError
from modelspec.graph import Graph
from modelspec.summary import readable_size

#: Copies of each weight while training: the weights, their gradients and up to two optimizer slots.
TRAINING_COPIES = 4


class ResourceError(ModelspecError):
    """The model would not fit in this machine's memory."""


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


def check_memory(graph: Graph, *, training: bool, available: int | None = None, force: bool = False) -> None:
    """ResourceError when the float32 weights (x4 to train) exceed the available memory, unless `force`."""
    params = graph.total_params
    copies = TRAINING_COPIES if training else 1
    needed = params * 4 * copies
    available = available_memory() if available is None else available
    if force or available is None or needed <= available:
        return
    what = "to train (weights, gradients and optimizer state)" if training else "for its weights"
    raise ResourceError(
        f"model '{graph.name}' has {params:,} parameters: about {readable_size(needed)} {what}, "
        f"more than the {readable_size(available)} of memory available here; nothing was allocated "
        "(use --force to try anyway)"
    )
