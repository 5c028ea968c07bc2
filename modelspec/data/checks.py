"""Arrays against the model's expectations, before any training: every problem at once (`check_arrays`).

Missing or extra arrays, shapes, dtypes, NaN/inf, lengths, label ranges, fixed batch sizes, each
one line of a DataError prefixed with where the data came from ("data.train"). Conformance rules:
- a target may differ from its expected shape by a trailing axis of size 1 ((n,) vs (n, 1));
- class ids (n,) for a `categorical` target of shape (None, C) are one-hot encoded to (n, C)
  (this is how `{dataset: digits}` feeds a softmax + categorical_crossentropy model);
- arrays are converted to the expected dtype; arrays already in it are returned as they are,
  so `.npy` memory maps stay lazy (and read-only: index batches out of them before handing
  them to torch). Values are scanned a slice at a time, and a map's pages released after each.

Conversions (one-hot, dtype) are sized from their shapes first: ResourceError past the memory
available, unless `force`.

    arrays = check_arrays(raw, expected, where="data.train")
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from modelspec.data.arrays import CHUNK_BYTES, Arrays, ArraySpec, shape_text
from modelspec.data.memmap import release_pages
from modelspec.errors import DataError, did_you_mean, format_choices
from modelspec.resources import check_allocation


def _chunks(array: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, slice) pairs covering the array, each about CHUNK_BYTES (memory maps stay lazy,
    and their pages leave the resident memory after each slice)."""
    if array.ndim == 0 or array.shape[0] == 0:
        yield 0, np.asarray(array)
        return
    row_bytes = max(1, array[0:1].nbytes)
    step = max(1, CHUNK_BYTES // row_bytes)
    for start in range(0, array.shape[0], step):
        yield start, np.asarray(array[start : start + step])
        release_pages(array, (start, min(start + step, array.shape[0]) - 1))


def _first_bad(array: np.ndarray, is_bad) -> tuple[int, tuple[int, ...] | None, Any]:
    """(count, index of the first, value of the first) of the elements where is_bad(chunk) is True."""
    count, first, value = 0, None, None
    for start, chunk in _chunks(array):
        mask = is_bad(chunk)
        found = int(np.count_nonzero(mask))
        if found and first is None:
            flat = int(np.argmax(mask.reshape(-1)))
            index = np.unravel_index(flat, chunk.shape) if chunk.ndim else ()
            first = tuple(int(i) for i in index)
            value = chunk[first] if chunk.ndim else chunk[()]
            if first:
                first = (first[0] + start, *first[1:])
        count += found
    return count, first, value


def _layout_hint(expected: tuple, received: tuple[int, ...]) -> str:
    """How to fix an array with as many values per sample as the model takes: transpose when the sizes
    are the model's in another order (channels first), reshape only where the values keep their order.

        _layout_hint((None, 16, 16, 3), (n, 3, 16, 16))   # " (it looks channels-first; ...: x.transpose(0, 2, 3, 1) in numpy; ...)"
        _layout_hint((None, 16, 16, 3), (n, 768))         # " (same number of values per sample: reshape it to (None, 16, 16, 3))"
    """
    want, have = tuple(expected[1:]), tuple(received[1:])
    axes = _axes_order(have, want)
    if axes is not None:
        numpy = f"x.transpose({', '.join(str(a) for a in (0, *(a + 1 for a in axes)))}) in numpy"
        if axes == (*range(1, len(want)), 0):
            return f" (it looks channels-first; the model takes channels last, as Keras does: {numpy}; a reshape would scramble the values)"
        return f" (the same sizes in another order: {numpy}; a reshape would scramble the values)"
    if len(have) == 1 or len(want) == 1 or _squeezed(have) == _squeezed(want):
        return f" (same number of values per sample: reshape it to {shape_text(expected)})"
    return f" (same number of values per sample: if they are stored in that order, reshape it to {shape_text(expected)})"


def _axes_order(have: tuple, want: tuple) -> tuple[int, ...] | None:
    """The axes of `have` that give `want` (numpy's transpose order), keeping equal sizes in their order; None if no reordering does."""
    if len(have) != len(want) or have == want or sorted(have) != sorted(want):
        return None
    unused = list(range(len(have)))
    order = []
    for size in want:
        axis = next(a for a in unused if have[a] == size)
        unused.remove(axis)
        order.append(axis)
    return tuple(order)


def _squeezed(shape: tuple) -> tuple:
    return tuple(d for d in shape if d != 1)


def _index_text(index: tuple[int, ...] | None) -> str:
    if not index:
        return ""
    return str(index[0]) if len(index) == 1 else str(index)


class _Checker:
    def __init__(self, arrays: dict[str, np.ndarray], where: str, *, force: bool = False):
        self.force = force
        self.arrays = arrays
        self.where = where
        self.origins: dict[str, str] = getattr(arrays, "origins", {})
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.where}: {message}")

    def label(self, name: str) -> str:
        origin = self.origins.get(name)
        return f"array '{name}' (from {origin})" if origin else f"array '{name}'"

    def names(self, expected: list[ArraySpec]) -> None:
        """Missing and extra arrays."""
        unused: dict[str, str] = getattr(self.arrays, "unused", {})
        available = list(self.arrays) + [k for k in unused if k not in self.arrays]
        wanted = [s.name for s in expected]
        predicting = not any(s.role == "target" for s in expected)
        for spec in expected:
            if spec.name not in self.arrays:
                has = f"the data has {format_choices(available)}" if available else "the data has no arrays"
                self.fail(
                    f"missing array '{spec.name}' (the model's {spec.role} '{spec.name}', shape {spec.shape_text}); "
                    f"{has}{did_you_mean(spec.name, [a for a in available if a not in wanted])}"
                )
        for name in available:
            if name not in wanted and not (predicting and name not in self.arrays):
                origin = self.origins.get(name) or unused.get(name)
                source = f" (from {origin})" if origin else ""
                self.fail(
                    f"unexpected array '{name}'{source}: the model takes {format_choices(wanted)}"
                    f"{did_you_mean(name, [w for w in wanted if w not in self.arrays])}"
                )

    def conform(self, spec: ArraySpec, array: np.ndarray) -> np.ndarray | None:
        """The array in the expected shape and dtype, or None after reporting why it cannot be."""
        label = self.label(spec.name)
        if array.dtype.kind not in "biuf":
            self.fail(f"{label} has dtype {array.dtype}, which is not numeric; the model's {spec.role} '{spec.name}' takes {spec.dtype}")
            return None
        rank = len(spec.shape)
        if spec.role == "target" and array.ndim == rank + 1 and array.shape[-1] == 1:
            array = array.reshape(array.shape[:-1])  # (n, 1) labels for an (n,) target
        one_hot = spec.label_kind == "categorical" and array.ndim == rank - 1 and _is_integral(array)
        if not one_hot and spec.role == "target" and array.ndim == rank - 1 and spec.shape[-1] == 1:
            array = array.reshape((*array.shape, 1))  # (n,) labels for an (n, 1) target
        ok = self.shape(spec, array, label, one_hot)
        ok = self.values(spec, array, label, one_hot) and ok
        if not ok:
            return None
        if one_hot:
            self.allocate(array.size * (spec.num_classes * np.dtype(spec.dtype).itemsize + 8), f"{label} one-hot encoded")
            return np.eye(spec.num_classes, dtype=spec.dtype)[np.asarray(array, dtype=np.int64)]
        if array.dtype == np.dtype(spec.dtype):
            return array
        self.allocate(array.size * np.dtype(spec.dtype).itemsize, f"{label} converted to {spec.dtype}")
        return np.asarray(array, dtype=spec.dtype)

    def allocate(self, needed: int, what: str) -> None:
        check_allocation(needed, f"{self.where}: {what}", force=self.force)

    def shape(self, spec: ArraySpec, array: np.ndarray, label: str, one_hot: bool) -> bool:
        expected = spec.shape[:-1] if one_hot else spec.shape
        received = array.shape
        matches = len(received) == len(expected) and all(e is None or e == r for e, r in zip(expected[1:], received[1:]))
        if matches:
            return True
        what = "class ids" if one_hot else "shape"
        if len(received) != len(expected):
            message = (
                f"{label} has shape {shape_text(received)} ({_dims(len(received))}); the model's {spec.role} '{spec.name}' "
                f"expects {spec.shape_text} ({_dims(len(spec.shape))})"
            )
        else:
            message = f"{label} has {what} {shape_text(received)}; the model's {spec.role} '{spec.name}' expects {spec.shape_text}"
        if spec.label_kind == "sparse" and len(received) == len(expected) + 1 and received[-1] == spec.num_classes:
            message += " (the labels look one-hot: store class ids, or use a categorical loss)"
        elif spec.label_kind == "categorical" and not one_hot and len(received) == len(expected) - 1:
            message += " (class ids are one-hot encoded only when they are integers)"
        elif spec.shape[1:] and all(isinstance(d, int) for d in spec.shape[1:]) and math.prod(received[1:]) == math.prod(spec.shape[1:]):
            message += _layout_hint(spec.shape, received)
        self.fail(message)
        return False

    def values(self, spec: ArraySpec, array: np.ndarray, label: str, one_hot: bool) -> bool:
        if array.dtype.kind == "f":
            count, first, _ = _first_bad(array, lambda c: ~np.isfinite(c))
            if count:
                n_nan = _first_bad(array, np.isnan)[0]
                parts = [f"{n} {kind}" for n, kind in ((n_nan, "NaN"), (count - n_nan, "infinite")) if n]
                self.fail(f"{label} has {' and '.join(parts)} value(s), the first at index {_index_text(first)}")
                return False
        ok = True
        if spec.dtype != "float32" and array.dtype.kind == "f":
            count, index, value = _first_bad(array, lambda c: c != np.floor(c))
            if count:
                self.fail(
                    f"{label} has dtype {array.dtype} with {count} non-integer value(s), the first {_scalar(value)} at index "
                    f"{_index_text(index)}; the model's {spec.role} '{spec.name}' takes integers ({spec.dtype})"
                )
                ok = False
        if one_hot or spec.label_kind == "sparse":
            ok = self.range(spec, array, label, 0, spec.num_classes, "class ids") and ok
        elif spec.label_kind in ("binary", "categorical") or spec.dtype == "bool" and array.dtype.kind != "b":
            ok = self.range(spec, array, label, 0, 1, "values", closed=True) and ok
        elif spec.high is not None and spec.dtype != "float32":
            ok = self.range(spec, array, label, 0, spec.high, "values") and ok
        elif spec.dtype in ("int32", "int64") and array.dtype != np.dtype(spec.dtype) and array.dtype.kind != "b":
            info = np.iinfo(spec.dtype)
            ok = self.range(spec, array, label, int(info.min), int(info.max) + 1, f"{spec.dtype} values") and ok
        return ok

    def range(self, spec: ArraySpec, array: np.ndarray, label: str, low: int, high: int, what: str, closed: bool = False) -> bool:
        interval = f"[{low}, {high}]" if closed else f"[{low}, {high})"
        outside = (lambda c: (c < low) | (c > high)) if closed else (lambda c: (c < low) | (c >= high))
        count, index, value = _first_bad(array, outside)
        if not count:
            return True
        kind = f" for a {spec.label_kind} target" if spec.label_kind else ""
        bound = f" (input_dim {spec.high})" if spec.high is not None and spec.role == "input" else ""
        self.fail(
            f"{label} has {count} {what} outside {interval}{kind}{bound}, the first {_scalar(value)} at index {_index_text(index)}"
        )
        return False

    def lengths(self, arrays: dict[str, np.ndarray], expected: list[ArraySpec]) -> None:
        sizes = {name: int(a.shape[0]) for name, a in arrays.items() if a.ndim}
        if len(set(sizes.values())) > 1:
            listed = ", ".join(f"'{name}' {n}" + (f" (from {self.origins[name]})" if name in self.origins else "") for name, n in sizes.items())
            self.fail(f"the arrays have different numbers of samples: {listed}")
            return
        n = next(iter(sizes.values()), None)
        if n == 0:
            self.fail(f"the data has no samples ({', '.join(sizes)} have length 0)")
            return
        batches = {s.shape[0] for s in expected if isinstance(s.shape[0], int)}
        for batch in sorted(batches):
            if n is not None and n % batch:
                down, up = n - n % batch, n - n % batch + batch
                self.fail(
                    f"{n} samples is not a multiple of the model's fixed batch size {batch} "
                    f"(a stateful model needs full batches): use {down} or {up} samples"
                )


def _dims(rank: int) -> str:
    return f"{rank} dimension" + ("" if rank == 1 else "s")


def _is_integral(array: np.ndarray) -> bool:
    return array.dtype.kind in "biu" or (array.dtype.kind == "f" and _first_bad(array, lambda c: ~np.isfinite(c) | (c != np.floor(c)))[0] == 0)


def _scalar(value: Any) -> str:
    item = value.item() if isinstance(value, np.generic) else value
    return repr(item)


def check_arrays(arrays: dict[str, np.ndarray], expected: list[ArraySpec], where: str, *, force: bool = False) -> dict[str, np.ndarray]:
    """Check arrays against the model's expectations before any training; return them conformed.

    Every problem is collected and raised as one DataError (one line each, prefixed with `where`,
    e.g. "data.train"): missing or unexpected arrays, rank and shape, dtype, NaN/inf, sample
    counts, class ids and label ranges, and the fixed batch size of a stateful model. The result
    holds the arrays in the expected dtype and shape (see the module docstring for the rules);
    an array already conforming is returned unchanged, so a memory map stays a memory map. A
    conversion that would not fit in the memory available is a ResourceError, unless `force`.
    """
    checker = _Checker(arrays, where, force=force)
    checker.names(expected)
    conformed = Arrays(origins=getattr(arrays, "origins", {}))
    for spec in expected:
        if spec.name in arrays:
            array = arrays[spec.name]
            if not isinstance(array, np.ndarray):
                array = np.asarray(array)
            result = checker.conform(spec, array)
            if result is not None:
                conformed[spec.name] = result
    present = {s.name: arrays[s.name] for s in expected if s.name in arrays and hasattr(arrays[s.name], "ndim")}
    checker.lengths(present, expected)
    if checker.problems:
        raise DataError("\n".join(checker.problems))
    return conformed
