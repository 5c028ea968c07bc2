"""Memory-mapped `.npy` arrays stay lazy: `release_pages` takes the pages read out of the resident memory.

Checks scan a map a slice at a time (modelspec.data.checks) and batches gather rows from it
(modelspec.data.batches); both release what they read, so a pass over a file larger than memory
keeps the process's RSS at the size of a slice.

    release_pages(array, (first_row, last_row))   # MADV_DONTNEED on the pages holding those rows
"""

from __future__ import annotations

import mmap

import numpy as np

#: Ranges released from a map are widened to this boundary (a multiple of the page size): one page
#: fault can map the whole large folio around it, up to a 2 MiB huge page on Linux.
RELEASE_ALIGNMENT = 2 * 1024 * 1024


def release_pages(array: np.ndarray, rows: tuple[int, int] | None = None) -> None:
    """Take a read-only memory map's pages out of this process's resident memory.

    Pages read through a map stay mapped, and counted in the process's RSS, until the kernel needs
    the memory: a pass over a 4 GB `.npy` would leave 4 GB resident. MADV_DONTNEED unmaps them;
    they stay in the page cache, so the next read of them is a minor fault, not a disk read. Only
    for shared maps ("r", "r+"), where no data can be lost; anything else is left alone.

    `rows` (first, last), both included: only the pages holding those rows of `array` (the kernel's
    walk over the range costs time in proportion to it: ~60 us for a whole 32 GB map); else the whole map.
    """
    view = array
    while isinstance(array, np.ndarray):
        mapped = getattr(array, "_mmap", None)
        if isinstance(array, np.memmap) and mapped is not None:
            if getattr(array, "mode", None) in ("r", "r+") and hasattr(mmap, "MADV_DONTNEED") and hasattr(mapped, "madvise"):
                if rows is None or view.ndim == 0:
                    mapped.madvise(mmap.MADV_DONTNEED)
                else:
                    start, end = _row_bytes_in_map(view, array, mapped, rows)
                    if end > start:
                        mapped.madvise(mmap.MADV_DONTNEED, start, end - start)
            return
        array = array.base


def _row_bytes_in_map(view: np.ndarray, root: np.memmap, mapped: mmap.mmap, rows: tuple[int, int]) -> tuple[int, int]:
    """The [start, end) byte range of `mapped` holding rows[0]..rows[1] of `view`, a view of `root`, widened
    to RELEASE_ALIGNMENT: a fault on one page can map its neighbours (fault-around, large folios).

    np.memmap maps from the allocation-granularity boundary below its offset, so its data starts
    offset % ALLOCATIONGRANULARITY bytes into the map.
    """
    data_start = view.__array_interface__["data"][0] - root.__array_interface__["data"][0] + root.offset % mmap.ALLOCATIONGRANULARITY
    first, last = rows
    stride = view.strides[0]
    low, high = sorted((first * stride, last * stride))
    start = data_start + low
    end = data_start + high + (abs(stride) if view.shape[0] else 0)
    start -= start % RELEASE_ALIGNMENT
    end = min(len(mapped), -(-end // RELEASE_ALIGNMENT) * RELEASE_ALIGNMENT)
    return max(0, start), end
