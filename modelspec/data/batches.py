"""Batches from named arrays, without a DataLoader's per-sample indexing.

In-memory arrays become tensors on the device once; a batch is one `index_select` per array
(or a slice, unshuffled). Memory-mapped `.npy` arrays stay on disk: a batch gathers its rows
from the map in sorted order (sequential reads), then moves to the device, and the map's pages
leave the process's resident memory (`release_pages`: they stay in the page cache), so a pass
over a file larger than memory keeps the RSS at the size of a batch.

On a GPU (`data_placement`): in-memory arrays move to the GPU once when they take at most a
quarter of its free memory (then batches never cross the bus); larger ones stay in host memory
and are read per batch like memory maps. A batch read on the host is gathered into page-locked
(pinned) memory and copied with `non_blocking=True`: the host does not wait for the copy and goes
on to launch the step and gather the next batch while the GPU works. The whole dataset is never
pinned (page-locking tens of GB can starve the host); PyTorch's pinned allocator reuses a staging
buffer only once its copy has finished. On the CPU none of this applies.

Shuffling is an exact permutation per epoch from a seeded generator; `shuffle="batch"` keeps
batches of consecutive rows and shuffles their order (Keras's "batch", for on-disk data: each batch
is one sequential read); as in Keras the last, partial batch stays last. The index takes 4 bytes a
row (int32 below 2**31 rows, the values torch.randperm gives in int64), and for "batch" 4 bytes a
batch: its rows are a slice.

With `shard=(rank, world)` (multi-process training), `batch_size` is the global batch: every
process cuts the same batches from the same permutation and yields its rank-th contiguous share of
each (rows [m*rank//world, m*(rank+1)//world) of a batch of m rows); `share` is that share's
fraction of the batch. A last batch with fewer rows than processes is left out.

Example:
    batches = Batches({"x": x, "y": y}, batch_size=32, device="cpu")
    for arrays, size in batches.epoch(shuffle=True, generator=g):
        arrays["x"]  # (32, ...) tensor
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor

from modelspec.data.memmap import release_pages


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


#: In-memory data moves to a GPU whole when it takes at most this fraction of the GPU's free memory.
DEVICE_DATA_FRACTION = 0.25


def data_placement(nbytes: int, device: torch.device, free_bytes: int | None = None) -> str:
    """Where in-memory arrays of `nbytes` live for batches on `device`.

    "device": moved there once (always on the CPU). "host": they stay in host memory and each batch
    is staged in pinned memory and copied asynchronously (a GPU whose free memory, `free_bytes`,
    read from the device when None, is under 1 / DEVICE_DATA_FRACTION times the data).
    """
    if device.type != "cuda" or nbytes == 0:
        return "device"
    if free_bytes is None:
        free_bytes, _ = torch.cuda.mem_get_info(device)
    return "device" if nbytes <= free_bytes * DEVICE_DATA_FRACTION else "host"


#: Rows gathered from a memory map between two releases of its pages: the page fault of one random
#: row can map a whole large folio of the page cache (up to 2 MB on Linux 6.x), so 1,024 random rows
#: read at once could map 2 GB; 64 at a time map at most 128 MB.
MAPPED_CHUNK_ROWS = 64


def host_rows(array: np.ndarray, rows: np.ndarray, *, pin: bool = False, mapped: bool = False) -> Tensor:
    """Rows of a host array (sorted indices) in a tensor of their own memory.

    `pin`: page-locked, for a `non_blocking` copy to a GPU. `mapped` (a memory map): random rows are
    read MAPPED_CHUNK_ROWS at a time, each chunk followed by `release_pages` of the rows it spans, so
    the pages read never add up in the resident memory. A run of consecutive rows (unshuffled, `shuffle="batch"`) is one slice.
    """
    out = torch.empty((len(rows), *array.shape[1:]), dtype=torch.from_numpy(np.empty(0, array.dtype)).dtype, pin_memory=pin)
    target = out.numpy()
    if len(rows) and int(rows[-1]) - int(rows[0]) == len(rows) - 1:
        target[...] = array[int(rows[0]):int(rows[-1]) + 1]
        if mapped:
            release_pages(array, (int(rows[0]), int(rows[-1])))
    else:
        step = MAPPED_CHUNK_ROWS if mapped else max(1, len(rows))
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            np.take(array, chunk, axis=0, out=target[start:start + step])
            if mapped:
                release_pages(array, (int(chunk[0]), int(chunk[-1])))
    return out


def index_dtype(count: int) -> torch.dtype:
    """The smallest torch integer type for indices below `count`: int32 below 2**31, else int64."""
    return torch.int32 if count <= torch.iinfo(torch.int32).max else torch.int64


class Batches:
    """Named arrays of equal length, cut into batches of `batch_size` rows."""

    def __init__(self, arrays: dict[str, np.ndarray], batch_size: int, device: str | torch.device = "cpu", *, drop_remainder: bool = False,
                 shard: tuple[int, int] | None = None, placement: str | None = None):
        lengths = {int(a.shape[0]) for a in arrays.values()}
        assert len(lengths) == 1, f"arrays of different lengths: {lengths}"
        self.samples = lengths.pop()
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.drop_remainder = drop_remainder
        self.mapped = {name: a for name, a in arrays.items() if _is_mapped(a)}
        in_memory = {name: a for name, a in arrays.items() if name not in self.mapped}
        self.placement = placement or data_placement(sum(a.nbytes for a in in_memory.values()), self.device)
        # Read per batch on the host: memory maps, and in-memory arrays that stay on the host.
        self.host = {**self.mapped, **(in_memory if self.placement == "host" else {})}
        self.tensors = {name: _to_tensor(a, self.device) for name, a in in_memory.items() if name not in self.host}
        self.pin = self.device.type == "cuda"  # stage host batches in pinned memory, copy with non_blocking=True
        self.shard = shard
        self.share = 1.0 if shard is None else 1.0 / shard[1]  # this process's fraction of the current batch

    def __len__(self) -> int:
        full, rest = divmod(self.samples, self.batch_size)
        return full + (1 if rest and not self.drop_remainder and (self.shard is None or rest >= self.shard[1]) else 0)

    def _share(self, start: int, stop: int) -> tuple[int, int]:
        """This process's rows of the global batch [start, stop)."""
        rank, world = self.shard  # type: ignore[misc]
        rows = stop - start
        self.share = (rows * (rank + 1) // world - rows * rank // world) / rows
        return start + rows * rank // world, start + rows * (rank + 1) // world

    def _order(self, shuffle: bool | str, generator: torch.Generator | None) -> tuple[Tensor | None, Tensor | None]:
        """(row permutation, block permutation): the first for `shuffle=True`, the second for "batch"
        (Keras's batch_shuffle: whole batch-sized blocks in a random order, the partial one last).

        Indices take the smallest integer type that holds them: 4 bytes a row below 2**31 rows, and
        4 bytes a batch for "batch" (the same values torch.randperm gives in int64, for the same generator).
        """
        if not shuffle:
            return None, None
        if shuffle == "batch":
            full = self.samples // self.batch_size
            return None, torch.randperm(full, generator=generator, dtype=index_dtype(full))
        return torch.randperm(self.samples, generator=generator, dtype=index_dtype(self.samples)), None

    def epoch(self, *, shuffle: bool | str = False, generator: torch.Generator | None = None, steps: int | None = None) -> Iterator[tuple[dict[str, Tensor], int]]:
        """Yield ({name: batch tensor}, batch size) for one pass over the data (at most `steps` batches)."""
        order, blocks = self._order(shuffle, generator)
        device_order = order.to(self.device) if order is not None and not self.host else None  # host reads use `order`
        count = len(self) if steps is None else min(steps, len(self))
        tensors, size, samples, shard = list(self.tensors.items()), self.batch_size, self.samples, self.shard
        for step in range(count):
            start = step * size
            stop = min(start + size, samples)
            if shard is not None:
                start, stop = self._share(start, stop)
            if blocks is not None and step < len(blocks):  # "batch": the rows of block blocks[step], consecutive
                shift = (int(blocks[step]) - step) * size
                start, stop = start + shift, stop + shift
            if order is None:
                batch = {name: t[start:stop] for name, t in tensors}
            elif device_order is not None:
                index = device_order[start:stop]
                batch = {name: t.index_select(0, index) for name, t in tensors}
            else:  # on-disk rows are read in sorted order: gather every array's rows in that order
                rows = np.sort(order[start:stop].numpy())
                sorted_index = torch.from_numpy(rows).to(self.device)
                batch = {name: t.index_select(0, sorted_index) for name, t in tensors}
            if self.host:
                if order is None:
                    rows = np.arange(start, stop)
                batch.update({name: host_rows(a, rows, pin=self.pin, mapped=name in self.mapped).to(self.device, non_blocking=self.pin)
                              for name, a in self.host.items()})
            yield batch, stop - start
