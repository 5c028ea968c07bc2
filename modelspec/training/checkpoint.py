"""checkpoint.pt, checked before it is used: its recorded sha256, its zip archive's sizes and CRCs, then
every entry's type and shape against the model, the optimizer and the run being resumed.

`write_checkpoint` writes it (RunDirectory.save in modelspec.training.run_dir), `read_checkpoint` checks and loads
it for --resume; run.json records its sha256 (the new one and
the one before, written just before the rename, so a kill between the two files leaves a checkpoint
whose checksum is recorded). A checkpoint whose archive declares more than CHECKPOINT_SLACK plus
WEIGHT_COPIES times the model's state is refused before anything is inflated.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from modelspec.errors import WeightsError
from modelspec.files import atomic_write_stream
from modelspec.resources import available_memory, readable_size

#: Copies of the model's state a checkpoint may hold: the weights, up to three optimizer slots, EarlyStopping's best weights, and room.
WEIGHT_COPIES = 8
#: Bytes a checkpoint may hold besides them (history, random states, the archive's records).
CHECKPOINT_SLACK = 64 * 2**20
_TYPES = {"format": int, "epoch": int, "rng": torch.Tensor, "cuda_rng": list, "shuffle_rng": torch.Tensor, "history": dict, "callbacks": list,
          "stop_reason": (str, type(None))}


def sha256(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def write_checkpoint(path: Path, state: dict[str, Any], before_replace: Callable[[Path], None]) -> None:
    """torch.save `state` to `path` atomically; `before_replace(temporary)` runs just before the new file replaces the old."""
    atomic_write_stream(path, lambda handle: torch.save(state, handle), before_replace=before_replace)


def read_checkpoint(path: Path, recorded: Sequence[str] | None, model: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
                    callbacks: int, device: torch.device) -> tuple[dict[str, Any], str]:
    """A checkpoint checked (its recorded sha256, its archive, every entry) before anything uses it, and its sha256."""
    digest = check_recorded(path, recorded)
    check_archive(path, sum(t.numel() * t.element_size() for t in model.values()))
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # noqa: BLE001 (torch.load(weights_only=True) refuses pickled code with UnpicklingError, among others)
        raise WeightsError(f"cannot resume from '{path}': {first_line(error)} (not a checkpoint written by modelspec?)") from None
    check_state(path, state, model, optimizer, callbacks)
    return state, digest


def check_recorded(path: Path, recorded: Sequence[str] | None) -> str:
    """The file's sha256; WeightsError unless it is one run.json recorded (None: the run recorded none)."""
    digest = sha256(path)
    if recorded is not None and digest not in recorded:
        raise WeightsError(f"cannot resume from '{path}': its sha256 is not the one run.json recorded when it was written "
                           "(the file was changed or damaged since); nothing was changed")
    return digest


def check_archive(path: Path, state_bytes: int) -> None:
    """WeightsError when `path` is not a zip archive (torch.save's format), declares too much data, or fails a CRC."""
    limit = WEIGHT_COPIES * state_bytes + CHECKPOINT_SLACK
    memory = available_memory()
    limit = min(limit, memory) if memory is not None else limit
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(member.file_size for member in archive.infolist())
            if declared > limit:
                raise WeightsError(f"cannot resume from '{path}': its entries inflate to {readable_size(declared)}, more than the "
                                   f"{readable_size(limit)} a checkpoint of this model can hold ({WEIGHT_COPIES} x its "
                                   f"{readable_size(state_bytes)} of weights + {readable_size(CHECKPOINT_SLACK)}, within the memory available); nothing was read")
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise WeightsError(f"cannot resume from '{path}': {error} (expected a checkpoint.pt written by modelspec train)") from None
    if damaged is not None:
        raise WeightsError(f"cannot resume from '{path}': its entry '{damaged}' fails its CRC check (the file was changed or damaged)")


def check_state(path: Path, state: Any, model: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer, callbacks: int) -> None:
    """WeightsError listing every entry of a loaded checkpoint that is missing or not what this run writes."""
    if not isinstance(state, dict):
        raise WeightsError(f"cannot resume from '{path}': it holds a {type(state).__name__}, expected the dict modelspec train writes")
    problems = [f"'{name}' is missing" for name in _TYPES if name not in state]
    problems += [f"'{name}' is {_kind(state[name])}, expected {_kind_name(kind)}" for name, kind in _TYPES.items()
                 if name in state and not _is(state[name], kind)]
    if not problems:
        problems += _values(state, callbacks)
        problems += _tensors("model", state.get("model"), model)
        problems += _optimizer(state.get("optimizer"), optimizer)
    if problems:
        listed = "\n  ".join(problems)
        raise WeightsError(f"cannot resume from '{path}': it is not a checkpoint of this run (nothing was changed):\n  {listed}")


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if isinstance(value, (str, int, float, bool, type(None))) else f"a {type(value).__name__}"


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join("None" if k is type(None) else k.__name__ for k in kinds)


def _values(state: dict[str, Any], callbacks: int) -> list[str]:
    """The scalar entries, the random states, the history and the callbacks' list."""
    problems = []
    if state["format"] != 1:
        problems.append(f"'format' is {state['format']}, expected 1")
    if state["epoch"] < 0:
        problems.append(f"'epoch' is {state['epoch']}, expected a count of epochs (0 or more)")
    for name, expected in (("rng", torch.get_rng_state()), ("shuffle_rng", torch.Generator().get_state())):
        if state[name].dtype != torch.uint8 or state[name].shape != expected.shape:
            problems.append(f"'{name}' is a {state[name].dtype} tensor of shape {tuple(state[name].shape)}, expected uint8 of shape {tuple(expected.shape)}")
    if not all(isinstance(s, torch.Tensor) and s.dtype == torch.uint8 for s in state["cuda_rng"]):
        problems.append("'cuda_rng' is not a list of uint8 tensors")
    problems += _history(state["history"])
    if len(state["callbacks"]) != callbacks or not all(isinstance(c, dict) for c in state["callbacks"]):
        problems.append(f"'callbacks' holds {len(state['callbacks'])} entries, expected a dict for each of the spec's {callbacks} callback(s)")
    saved = state.get("processes", 1)
    if not _is(saved, int) or saved < 1 or (saved > 1 and not isinstance(state.get("process_rng"), list)):
        problems.append(f"'processes' is {saved!r} (with 'process_rng' {_kind(state.get('process_rng'))}), expected a count of processes and their random states")
    return problems


def _history(history: dict[Any, Any]) -> list[str]:
    columns = {name: column for name, column in history.items() if isinstance(name, str) and isinstance(column, list)}
    if len(columns) != len(history) or len({len(c) for c in columns.values()}) > 1:
        return ["'history' is not columns of equal length, named by metric"]
    if not all(isinstance(v, (int, float, type(None))) and not isinstance(v, bool) for column in columns.values() for v in column):
        return ["'history' holds values that are not numbers or None"]
    return []


def _tensors(entry: str, found: Any, expected: dict[str, torch.Tensor]) -> list[str]:
    """Problems of a {name: tensor} entry against the tensors it must match (names, shapes, dtypes)."""
    if not isinstance(found, dict):
        return [f"'{entry}' is {_kind(found)}, expected a dict of tensors"]
    problems = [f"'{entry}' lacks '{name}'" for name in expected if name not in found]
    problems += [f"'{entry}' has unexpected '{name}'" for name in found if name not in expected]
    for name, tensor in found.items():
        if name not in expected:
            continue
        want = expected[name]
        if not isinstance(tensor, torch.Tensor):
            problems.append(f"'{entry}.{name}' is {_kind(tensor)}, expected a tensor")
        elif tensor.shape != want.shape or tensor.dtype != want.dtype:
            problems.append(f"'{entry}.{name}' is {tensor.dtype} {tuple(tensor.shape)}, the model has {want.dtype} {tuple(want.shape)}")
    return problems


def _optimizer(found: Any, optimizer: torch.optim.Optimizer) -> list[str]:
    """Problems of the optimizer entry: the same groups and hyperparameters, slots shaped as their parameters."""
    if not isinstance(found, dict) or not isinstance(found.get("state"), dict) or not isinstance(found.get("param_groups"), list):
        return [f"'optimizer' is {_kind(found)}, expected a dict with 'state' and 'param_groups'"]
    current = optimizer.state_dict()["param_groups"]
    if len(found["param_groups"]) != len(current):
        return [f"'optimizer' has {len(found['param_groups'])} parameter group(s), this optimizer {len(current)}"]
    problems = []
    for index, (group, expected) in enumerate(zip(found["param_groups"], current)):
        if not isinstance(group, dict) or group.keys() != expected.keys() or group["params"] != expected["params"]:
            problems.append(f"'optimizer' parameter group {index} has other settings than this optimizer's ({sorted(expected)})")
            continue
        problems += [f"'optimizer' parameter group {index}: '{key}' is {_kind(group[key])}, expected {_kind(value)}"
                     for key, value in expected.items() if key != "params" and not _same_kind(group[key], value)]
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    for index, slots in found["state"].items():
        if not _is(index, int) or not 0 <= index < len(parameters):
            problems.append(f"'optimizer' holds state for parameter {index!r}, which this optimizer lacks")
            continue
        expected_slots = optimizer.slots(parameters[index].detach().to("meta")) if hasattr(optimizer, "slots") else {}  # meta: nothing allocated
        problems += _tensors(f"optimizer.state.{index}", slots, expected_slots) if expected_slots or not isinstance(slots, dict) else []
    return problems


def _same_kind(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or expected is None:
        return type(value) is type(expected)
    if isinstance(expected, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and (isinstance(expected, float) or isinstance(value, int))
    return isinstance(value, type(expected))
