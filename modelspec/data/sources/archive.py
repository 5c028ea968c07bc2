"""`train: data/train.npz`: one `.npz` holding every array, keyed by name (or x / y for a single input / output).

Only the members the model needs are read; the others are listed as unused (an error when targets
are expected, suggestions when predicting).
"""

from __future__ import annotations

from modelspec.data.reader import Reader


def read(reader: Reader, written: str) -> None:
    """Add the archive's arrays named like the model's inputs and targets (or `x` / `y`)."""
    path = reader.resolve(written)
    if not reader.exists(path, written):
        return
    members = reader.npz_members(path, written)
    if members is None:
        return
    taken: set[str] = set()
    for specs, alias in ((reader.inputs, "x"), (reader.targets, "y")):
        for spec in specs:
            key = spec.name if spec.name in members else alias if len(specs) == 1 and alias in members else None
            if key is not None and key not in taken:
                taken.add(key)
                reader.add(spec.name, reader.read_npz_member(path, written, key), f"{written}:{key}")
    reader.arrays.unused.update({key: f"{written}:{key}" for key in members if key not in taken})
