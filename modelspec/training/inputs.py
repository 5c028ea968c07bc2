"""A run's inputs: the data loaded and checked against the model, sample and class weights, the validation
split, and the batches of every process (what Keras's data adapter does for `fit`, `evaluate` and `predict`).

    inputs = load_inputs(checked, world, force=False)           # DataError listing every problem, before anything is written
    inputs.train, inputs.validation                             # Batches (validation: None without validation data)
    inputs.test_batches()                                       # the test data's Batches, made when training finished

A sample's weight travels in its batch under WEIGHT_KEY (fit.sample_weight times fit.class_weight).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from modelspec.checked import CheckedSpec
from modelspec.data.arrays import ArraySpec
from modelspec.data.batches import Batches
from modelspec.data.checks import check_arrays
from modelspec.data.loading import load_source
from modelspec.data.splits import split_validation
from modelspec.errors import DataError, SpecError
from modelspec.graph import fixed_batch_size

if TYPE_CHECKING:  # pragma: no cover
    from modelspec.training.distributed import World

WEIGHT_KEY = "#sample_weight"  # not an identifier, so never an input or output name


def check_trainable(checked: CheckedSpec) -> None:
    """SpecError (located) when the spec has no loss or no training data."""
    spec = checked.spec
    if spec.compile is None or not any(o.loss is not None for o in checked.plan.outputs.values()):
        raise SpecError([checked.located.problem("training needs a loss: add compile: {loss: ...}", ("compile",))])
    if spec.data is None or spec.data.train is None:
        raise SpecError([checked.located.problem("training needs data: add data: {train: ...} (a .npz, {dataset: digits} or {synthetic: {samples: N}})", ("data",))])


def load_arrays(checked: CheckedSpec, source: Any, split: str, *, targets: bool = True, force: bool = False) -> dict[str, np.ndarray]:
    """Load and check one data source against the model (DataError listing every problem)."""
    expected: list[ArraySpec] = checked.plan.expected(checked.graph, targets=targets)
    raw = load_source(source, expected, checked.base_dir, split, force=force)
    return check_arrays(raw, expected, f"data.{split}", force=force)


def sample_weights(checked: CheckedSpec, arrays: dict[str, np.ndarray]) -> np.ndarray | None:
    """fit.sample_weight (a .npy file) times fit.class_weight (by each sample's class), or None."""
    fit, n = checked.spec.fit, len(next(iter(arrays.values())))
    weights = _read_sample_weights(checked, n) if fit.sample_weight is not None else None
    if fit.class_weight:
        by_class = _class_weights(checked, arrays, n)
        weights = by_class if weights is None else weights * by_class
    return weights


def _read_sample_weights(checked: CheckedSpec, n: int) -> np.ndarray:
    """fit.sample_weight's array: its shape checked before it is read, then every weight finite and 0 or more."""
    name = checked.spec.fit.sample_weight
    try:
        mapped = np.load(checked.base_dir / name, mmap_mode="r", allow_pickle=False)  # the header only, until used
    except (OSError, ValueError) as error:
        raise DataError(f"fit.sample_weight: cannot read '{name}' as a .npy array: {error}") from None
    if not isinstance(mapped, np.ndarray) or mapped.shape != (n,):
        shape = mapped.shape if isinstance(mapped, np.ndarray) else "an .npz archive"
        raise DataError(f"fit.sample_weight: '{name}' has shape {shape}, expected ({n},): one weight per training sample")
    try:
        weights = np.asarray(mapped, dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise DataError(f"fit.sample_weight: '{name}' holds {mapped.dtype} values, expected numbers: {error}") from None
    bad = np.flatnonzero(~np.isfinite(weights) | (weights < 0))
    if bad.size:
        raise DataError(f"fit.sample_weight: '{name}' holds {weights[bad[0]]} at index {bad[0]} ({bad.size} bad weight(s) in all): "
                        "expected finite weights of 0 or more")
    return weights


def _class_weights(checked: CheckedSpec, arrays: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Each sample's fit.class_weight (1 for a class it does not name), looked up among the classes present."""
    output = next(o for o in checked.plan.outputs.values() if o.loss is not None)  # the only one (modelspec.plan checks)
    by_class = {int(index): weight for index, weight in checked.spec.fit.class_weight.items()}
    labels = np.asarray(arrays[output.name])
    sample_classes = labels.argmax(axis=-1) if labels.ndim > 1 and labels.shape[-1] > 1 else np.rint(labels.reshape(n, -1)[:, 0]).astype(np.int64)
    present, position = np.unique(sample_classes, return_inverse=True)
    weights = np.array([by_class.get(int(c), 1.0) for c in present], dtype=np.float32)
    return weights[position.reshape(-1)]


def make_batches(checked: CheckedSpec, arrays: dict[str, np.ndarray], batch_size: int, world: World) -> Batches:
    """The batches of `arrays` on the world's device: this process's share of global batches of world.size * batch_size."""
    fixed = fixed_batch_size(checked.graph)
    if fixed is not None and batch_size != fixed:
        raise DataError(f"fit.batch_size is {batch_size}, but the model fixes the batch size to {fixed} (batch_input_shape / batch_size)")
    return world.batches(arrays, batch_size, drop_remainder=fixed is not None)


@dataclass
class TrainingInputs:
    """What `fit` reads: the training and validation batches, and the test data evaluated once training finished."""

    checked: CheckedSpec
    train: Batches
    validation: Batches | None
    test_arrays: dict[str, np.ndarray] | None
    world: World

    def test_batches(self) -> Batches | None:
        """The test data's batches (made when needed: after training), or None without test data."""
        if self.test_arrays is None:
            return None
        return make_batches(self.checked, self.test_arrays, self.checked.spec.fit.batch_size, self.world)


def load_inputs(checked: CheckedSpec, world: World, *, force: bool = False) -> TrainingInputs:
    """Every data source of the spec loaded and checked, weighted and split (DataError before anything is written)."""
    spec = checked.spec
    train = load_arrays(checked, spec.data.train, "train", force=force)
    weights = sample_weights(checked, train)
    if weights is not None:
        train = {**train, WEIGHT_KEY: weights}
    validation = load_arrays(checked, spec.data.validation, "validation", force=force) if spec.data.validation is not None else None
    if validation is None and spec.fit.validation_split > 0:
        train, validation = split_validation(train, spec.fit.validation_split)
    test = load_arrays(checked, spec.data.test, "test", force=force) if spec.data.test is not None else None
    batch_size = spec.fit.batch_size
    return TrainingInputs(checked, make_batches(checked, train, batch_size, world),
                          make_batches(checked, validation, batch_size, world) if validation else None, test, world)
