"""Batches from named arrays, without a DataLoader's per-sample indexing.

In-memory arrays become tensors on the device once; a batch is one `index_select` per array
(or a slice, unshuffled). Memory-mapped `.npy` arrays stay on disk: a batch gathers its rows
from the map in sorted order (sequential reads), then moves to the device.

Shuffling is an exact permutation per epoch from a seeded generator; `shuffle="batch"` keeps
batches of consecutive rows and shuffles their order (Keras's "batch", for on-disk data).

Example:
    batches = Batches({"x": x, "y": y}, batch_size=32, device="cpu")
    for arrays, size in batches.epoch(shuffle=True, generator=g):
        arrays["x"]  # (32, ...) tensor
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
from torch import Tensor


def _is_mapped(array: np.ndarray) -> bool:
    """True for a memory map (or a view of one): keep it on disk."""
    while array is not None:
        if isinstance(array, np.memmap):
            return True
        array = array.base if isinstance(array.base, np.ndarray) else None
    return False


def _to_tensor(array: np.ndarray, device: torch.device) -> Tensor:
    array = np.ascontiguousarray(array)
    return torch.from_numpy(array if array.flags.writeable else array.copy()).to(device)


class Batches:
    """Named arrays of equal length, cut into batches of `batch_size` rows."""

    def __init__(self, arrays: dict[str, np.ndarray], batch_size: int, device: str | torch.device = "cpu", *, drop_remainder: bool = False):
        lengths = {int(a.shape[0]) for a in arrays.values()}
        assert len(lengths) == 1, f"arrays of different lengths: {lengths}"
        self.samples = lengths.pop()
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.drop_remainder = drop_remainder
        self.mapped = {name: a for name, a in arrays.items() if _is_mapped(a)}
        self.tensors = {name: _to_tensor(a, self.device) for name, a in arrays.items() if name not in self.mapped}

    def __len__(self) -> int:
        full, rest = divmod(self.samples, self.batch_size)
        return full + (1 if rest and not self.drop_remainder else 0)

    def _order(self, shuffle: bool | str, generator: torch.Generator | None) -> Tensor | None:
        if not shuffle:
            return None
        if shuffle == "batch":
            blocks = torch.randperm(len(self), generator=generator)
            starts = blocks * self.batch_size
            return torch.cat([torch.arange(s, min(s + self.batch_size, self.samples)) for s in starts.tolist()])
        return torch.randperm(self.samples, generator=generator)

    def epoch(self, *, shuffle: bool | str = False, generator: torch.Generator | None = None, steps: int | None = None) -> Iterator[tuple[dict[str, Tensor], int]]:
        """Yield ({name: batch tensor}, batch size) for one pass over the data (at most `steps` batches)."""
        order = self._order(shuffle, generator)
        device_order = order.to(self.device) if order is not None else None
        count = len(self) if steps is None else min(steps, len(self))
        tensors, size, samples = list(self.tensors.items()), self.batch_size, self.samples
        for step in range(count):
            start = step * size
            stop = min(start + size, samples)
            if device_order is None:
                batch = {name: t[start:stop] for name, t in tensors}
            elif not self.mapped:
                index = device_order[start:stop]
                batch = {name: t.index_select(0, index) for name, t in tensors}
            else:  # on-disk rows are read in sorted order: gather every array's rows in that order
                rows = np.sort(order[start:stop].numpy())
                sorted_index = torch.from_numpy(rows).to(self.device)
                batch = {name: t.index_select(0, sorted_index) for name, t in tensors}
            if self.mapped:
                if device_order is None:
                    rows = np.arange(start, stop)
                batch.update({name: torch.from_numpy(np.ascontiguousarray(a[rows])).to(self.device) for name, a in self.mapped.items()})
            yield batch, stop - start
