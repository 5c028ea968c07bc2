"""Keras 3 weights (`model.save_weights("model.weights.h5")`) -> modelspec safetensors for a spec.

A Keras 3 weights file holds each layer's variables in creation order under
`layers/<layer name>/vars/0, 1, ...`; a recurrent layer's are its cell's (`layers/lstm/cell/vars`),
a wrapper's are its inner layer's (`layers/td/layer/...`, `layers/bi/forward_layer/cell/...`), a
nested model's are `layers/<model>/layers/<layer>/...`. Each is moved to modelspec's name and
PyTorch's layout:

| layer | Keras variables | modelspec |
| --- | --- | --- |
| Dense | kernel (in, units), bias | kernel (units, in), bias |
| Conv1D/2D/3D | kernel (*window, in, filters), bias | kernel (filters, in, *window), bias |
| LSTM, GRU, SimpleRNN | kernel (in, g*u), recurrent_kernel (u, g*u), bias | both kernels transposed; bias as is (gate orders are Keras's in both) |
| Embedding | embeddings (input_dim, output_dim) | the same |
| BatchNormalization | gamma, beta, moving_mean, moving_variance | the same names |
| LayerNormalization | gamma, beta | the same names |

Any other layer with weights is reported, as is every missing or mis-shaped tensor: nothing is
written unless every weight of the spec is found. Needs h5py (`pip install 'modelspec[keras]'`).

    tensors = convert_weights("model.weights.h5", "model.yaml", "model.safetensors")
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from modelspec.errors import WeightsError
from modelspec.graph import Graph
from modelspec.interop import ConversionError
from modelspec.layers import LayerConfig

#: A Keras group's variables (in order) -> modelspec's tensors by weight name.
Mapper = Callable[[LayerConfig, list[np.ndarray]], dict[str, np.ndarray]]


def _dense(config: LayerConfig, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    return _named(["kernel", "bias"], [arrays[0].T, *arrays[1:]])


def _convolution(config: LayerConfig, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    kernel = arrays[0]
    rank = kernel.ndim
    return _named(["kernel", "bias"], [np.transpose(kernel, (rank - 1, rank - 2, *range(rank - 2))), *arrays[1:]])


def _recurrent(config: LayerConfig, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    return _named(["kernel", "recurrent_kernel", "bias"], [arrays[0].T, arrays[1].T, *arrays[2:]])


def _embedding(config: LayerConfig, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    return _named(["embeddings"], arrays)


def _batch_normalization(config: LayerConfig, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    names = [*(["gamma"] if config.scale else []), *(["beta"] if config.center else []), "moving_mean", "moving_variance"]
    return _named(names, arrays)


def _layer_normalization(config: LayerConfig, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    return _named([*(["gamma"] if config.scale else []), *(["beta"] if config.center else [])], arrays)


def _named(names: list[str], arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
    if len(arrays) > len(names):
        raise _Mismatch(f"holds {len(arrays)} variables, the layer has {len(names)} ({', '.join(names)})")
    return dict(zip(names, arrays))


class _Mismatch(Exception):
    pass


#: Layer type -> how its Keras variables map onto modelspec's weights.
MAPPERS: dict[str, Mapper] = {
    "Dense": _dense,
    "Conv1D": _convolution,
    "Conv2D": _convolution,
    "Conv3D": _convolution,
    "LSTM": _recurrent,
    "GRU": _recurrent,
    "SimpleRNN": _recurrent,
    "Embedding": _embedding,
    "BatchNormalization": _batch_normalization,
    "LayerNormalization": _layer_normalization,
}

#: Wrappers: (the inner layer's config, its Keras attribute = h5 group, its torch submodule name).
WRAPPED: dict[str, list[tuple[Callable[[Any], LayerConfig], str, str]]] = {
    "TimeDistributed": [(lambda config: config.layer, "layer", "layer")],
    "Bidirectional": [(lambda config: config.layer, "forward_layer", "forward_layer"),
                      (lambda config: config.backward(), "backward_layer", "backward_layer")],
}


class _Reader:
    """Walks a graph's layers and the h5 groups of the same names, collecting tensors and problems."""

    def __init__(self, root: Any, models: dict[str, Graph]):
        self.root = root
        self.models = models  # the graph of each nested model, by module path (Graph.nested_models)
        self.tensors: dict[str, np.ndarray] = {}
        self.problems: list[str] = []
        self.failed: list[str] = []  # weight-name prefixes of the layers already reported

    def fail(self, prefix: str, problem: str) -> None:
        self.failed.append(prefix)
        self.problems.append(problem)

    def graph(self, graph: Graph, group: Any, prefix: str, where: str) -> None:
        layers = group.get("layers") if group is not None else None
        for layer in graph.layers.values():
            if not layer.weights and not layer.submodels():
                continue
            inner = layers.get(layer.name) if layers is not None else None
            path = f"{where}layers/{layer.name}"
            if inner is None:
                self.fail(f"{prefix}{layer.name}", f"'{path}' is not in the file: no weights for layer '{prefix}{layer.name}' ({layer.type})")
                continue
            self.layer(layer.config, inner, f"{prefix}{layer.name}", path)

    def layer(self, config: LayerConfig, group: Any, name: str, path: str) -> None:
        type_name = config.layer_type
        if type_name == "Model":
            self.graph(self.models[name], group, f"{name}.", f"{path}/")
            return
        if type_name in WRAPPED:
            for inner_config, attribute, torch_name in WRAPPED[type_name]:
                inner = group.get(attribute)
                if inner is None:
                    self.fail(name, f"'{path}/{attribute}' is not in the file ({type_name} '{name}')")
                    continue
                self.layer(inner_config(config), inner, f"{name}.{torch_name}", f"{path}/{attribute}")
            return
        mapper = MAPPERS.get(type_name)
        if mapper is None:
            self.fail(name, f"layer '{name}': reading Keras weights of a {type_name} is not supported (supported: {', '.join(MAPPERS)})")
            return
        holder = group["cell"] if "cell" in group and "vars" in group["cell"] else group
        variables = holder.get("vars")
        if variables is None:
            self.fail(name, f"'{path}/vars' is not in the file ({type_name} '{name}')")
            return
        arrays = [np.asarray(variables[key], dtype=np.float32) for key in sorted(variables, key=_index)]
        try:
            mapped = mapper(config, arrays)
        except (_Mismatch, IndexError, ValueError) as error:
            self.fail(name, f"'{path}' ({type_name} '{name}'): {error}")
            return
        for weight, array in mapped.items():
            self.tensors[f"{name}.{weight}"] = np.ascontiguousarray(array)


def _index(key: str) -> int:
    return int(key) if key.isdigit() else 1_000_000


def read_keras_weights(path: str | Path, graph: Graph) -> dict[str, np.ndarray]:
    """The spec's weights from a Keras 3 .weights.h5 file, in modelspec's names and layouts (WeightsError listing every problem)."""
    if importlib.util.find_spec("h5py") is None:
        raise ConversionError("reading .weights.h5 files needs h5py, which is not installed: pip install 'modelspec[keras]'")
    import h5py

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file '{path}' not found")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise WeightsError(f"cannot read '{path}' as an HDF5 file: {error}") from None
    with handle:
        reader = _Reader(handle, graph.nested_models())
        reader.graph(graph, handle, "", "")
    expected = graph.weights()
    problems = list(reader.problems)
    for name, weight in expected.items():
        found = reader.tensors.get(name)
        if found is not None and tuple(found.shape) != tuple(weight.shape):
            problems.append(f"'{name}': the file gives shape {tuple(found.shape)} (after conversion), the spec needs {tuple(weight.shape)}")
        elif found is None and not any(name.startswith(f"{prefix}.") for prefix in reader.failed):
            problems.append(f"'{name}' {tuple(weight.shape)}: not found in the file")
    if problems:
        listed = "\n  ".join(problems)
        raise WeightsError(f"'{path}' does not fit the spec's weights:\n  {listed}")
    return {name: reader.tensors[name] for name in expected}


def convert_weights(h5_path: str | Path, spec: str | Path, out: str | Path, *, allow_plugins: bool = False) -> dict[str, Any]:
    """Write the safetensors file of `spec`'s weights read from a Keras 3 .weights.h5; returns the tensors written."""
    import torch
    from safetensors.torch import save_file

    from modelspec.checked import check_spec
    from modelspec.files import atomic_write

    graph = check_spec(spec, allow_plugins=allow_plugins).graph
    arrays = read_keras_weights(h5_path, graph)
    tensors = {name: torch.from_numpy(array) for name, array in arrays.items()}
    atomic_write(out, lambda temporary: save_file(tensors, str(temporary), metadata={"format": "pt", "writer": "modelspec convert"}))
    return tensors


__all__ = ["MAPPERS", "convert_weights", "read_keras_weights"]
