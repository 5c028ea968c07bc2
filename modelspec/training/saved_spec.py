"""The spec as a run directory saves it (RUN/spec.yaml): what was trained, --set overrides applied, with every
file path it names rewritten relative to the run directory, so that `modelspec evaluate RUN/spec.yaml`,
`predict`, `train` and `--resume` find the same files from any working directory. No torch.

A spec's paths are relative to its own folder. Those are the data files of every split (`data.train`,
`data.validation`, `data.test`: an .npz, or the files of `{x: ..., y: ...}`), `fit.sample_weight`, and the
`{spec, weights}` of every model called as a layer (also inside wrappers and `models:`). Absolute paths stay
as written; callbacks' files are relative to the run directory already.

    data: {train: data/train.npz}            # in proj/spec.yaml, trained with --run-dir runs/r1
    data: {train: ../../proj/data/train.npz} # in runs/r1/spec.yaml

Relative rather than absolute: a project whose folders move together (a clone, a copy to another machine or
home directory) keeps working runs, and resuming after such a move compares equal specs. A run directory moved
alone loses them; its header comment names the spec it came from.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from modelspec.checked import CheckedSpec
from modelspec.data.config import FILE_SUFFIXES, split_key, table_format
from modelspec.layers.base import LayerConfig
from modelspec.layers.model import ExternalModel, Model
from modelspec.spec import ModelBody

KeyPath = tuple[Any, ...]  # a place in the located data: keys and list indexes


def _layer_paths(config: LayerConfig, at: KeyPath) -> Iterator[KeyPath]:
    """Where the `{spec, weights}` of the models a layer calls (itself, or wrapped) are written."""
    if isinstance(config, Model) and isinstance(config.model, ExternalModel):
        yield (*at, "model")
    for field in type(config).layer_fields if config.wraps_layer else ():
        inner = getattr(config, field)
        if isinstance(inner, LayerConfig):
            yield from _layer_paths(inner, (*at, field))


def _model_references(body: ModelBody, prefix: KeyPath) -> Iterator[KeyPath]:
    section = "sequential" if body.is_sequential else "layers"
    for index, entry in enumerate(body.entries):
        if isinstance(entry, LayerConfig):
            yield from _layer_paths(entry, (*prefix, section, index))


def _at(data: Any, path: KeyPath) -> Any:
    for key in path:
        if isinstance(data, dict) and key in data or isinstance(data, list) and isinstance(key, int) and key < len(data):
            data = data[key]
        else:
            return None
    return data


def _data_files(container: Any, key: Any) -> Iterator[tuple[Any, Any]]:
    """(container, key) of each string at or under container[key] that names a data file (`x.npy`, `a.npz:key`)."""
    item = container[key]
    if isinstance(item, str) and (split_key(item)[0].lower().endswith(FILE_SUFFIXES) or table_format(item) is not None):
        yield container, key
    for inner in item if isinstance(item, dict) else range(len(item)) if isinstance(item, list) else ():
        yield from _data_files(item, inner)


def file_places(checked: CheckedSpec, data: Any) -> Iterator[tuple[Any, Any]]:
    """(container, key) in `data` (the spec's located data, or a copy) of every file path the spec names."""
    sections = data.get("data") if isinstance(data, dict) else None
    if isinstance(sections, dict):
        for split in ("train", "validation", "test"):
            yield from _data_files(sections, split) if split in sections else ()
    fit = data.get("fit") if isinstance(data, dict) else None
    if isinstance(fit, dict) and isinstance(fit.get("sample_weight"), str):
        yield fit, "sample_weight"
    spec = checked.spec
    bodies = [(spec, ()), *((body, ("models", name)) for name, body in spec.models.items())]
    for body, prefix in bodies:
        for path in _model_references(body, prefix):
            reference = _at(data, path)
            for key in ("spec", "weights") if isinstance(reference, dict) else ():
                if isinstance(reference.get(key), str):
                    yield reference, key


def _moved(written: str, base_dir: Path, run_dir: Path) -> str:
    """`written` (relative to `base_dir`, maybe with an .npz `:key`) relative to `run_dir`; absolute ones unchanged."""
    path, key = split_key(written)
    if os.path.isabs(path):
        return written
    target = os.path.abspath(base_dir / path)
    moved = Path(os.path.relpath(target, os.path.abspath(run_dir))).as_posix()
    return f"{moved}:{key}" if key is not None else moved


def relocated_data(checked: CheckedSpec, run_dir: Path) -> Any:
    """A copy of the spec's located data with every file path relative to `run_dir`."""
    data = copy.deepcopy(checked.located.data)
    for container, key in list(file_places(checked, data)):
        container[key] = _moved(container[key], checked.base_dir, run_dir)
    return data


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def saved_spec_text(checked: CheckedSpec, run_dir: Path) -> str:
    """RUN/spec.yaml: a comment saying where it came from, then the spec as trained, its paths relative to `run_dir`."""
    overrides = "".join(f" --set {override}" for override in checked.overrides)
    header = (f"# The spec of this run, as trained: {os.path.abspath(checked.path)}{overrides}\n"
              "# (--set overrides applied; file paths relative to this folder). Run it again from anywhere:\n"
              "#   modelspec evaluate RUN/spec.yaml --weights RUN/model.safetensors\n")
    return header + dump(relocated_data(checked, run_dir))
