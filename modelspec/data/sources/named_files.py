"""`{x: {name: path, ...}, y: {name: path, ...}}` or `{x: path, y: path}`: arrays read from files.

A file is `.npy`, `.npz` (its only array, the one named like the mapping's key, or `file.npz:key`),
`.csv` or `.csv.gz`. One `.npz` path may give several inputs (or outputs), by name.
"""

from __future__ import annotations

from modelspec.data.arrays import ArraySpec
from modelspec.data.config import FilesSource, split_key
from modelspec.data.reader import Reader


def read(reader: Reader, source: FilesSource) -> None:
    """Add the arrays of `x` (the inputs) and `y` (the targets; ignored when none are wanted)."""
    for specs, alias, given in ((reader.inputs, "x", source.x), (reader.targets, "y", source.y)):
        if given is None or not specs:
            continue  # y absent: check_arrays reports the missing targets; no targets wanted: y ignored
        if isinstance(given, str):
            _one_path(reader, specs, alias, given)
            continue
        for name, written in given.items():
            target = specs[0].name if len(specs) == 1 and name == alias and alias not in {s.name for s in specs} else name
            reader.add(target, reader.read_single(written, name_hint=name), written)


def _one_path(reader: Reader, specs: list[ArraySpec], alias: str, written: str) -> None:
    """`x: path` (or `y: path`): one array for one name, or several by name from one `.npz`."""
    path_text, key = split_key(written)
    if len(specs) == 1:
        reader.add(specs[0].name, reader.read_single(written, name_hint=specs[0].name), written)
        return
    if key is None and path_text.lower().endswith(".npz"):  # several arrays from one archive, by name
        path = reader.resolve(path_text)
        members = reader.npz_members(path, path_text) if reader.exists(path, path_text) else None
        for spec in specs if members is not None else ():
            if spec.name in members:
                reader.add(spec.name, reader.read_npz_member(path, path_text, spec.name), f"{path_text}:{spec.name}")
        for member in members or ():
            if member not in {s.name for s in specs}:
                reader.arrays.unused[member] = f"{path_text}:{member}"
        return
    role = "inputs" if alias == "x" else "outputs"
    names = ", ".join(f"'{s.name}'" for s in specs)
    reader.fail(
        f"{alias}: one file '{written}' for {len(specs)} {role} ({names}): "
        f"give a mapping of names to files, e.g. {alias}: {{{specs[0].name}: ..., {specs[1].name}: ...}}"
    )
