"""A spec with trained weights, out of modelspec: torch.export (.pt2), ONNX (.onnx), PyTorch source (.py).

The format follows the output file's extension. Every format is the model of `modelspec predict`
(activations applied, inference mode) with the batch dimension dynamic unless the spec fixes it,
and every written file is checked against modelspec's own module on a sample batch before it
replaces the output path (`Exported.difference`: the largest absolute difference).

    exported = export("specs/headline.yaml", "model.safetensors", "headline.onnx")
    exported.difference          # 6e-08; None when the check could not run (no onnxruntime)

- `.pt2` loads with `torch.export.load(path).module()`; the file's extra `modelspec.json` names
  the inputs and outputs.
- `.onnx` has the spec's input and output names, opset 18 (torch.onnx's dynamo exporter; needs
  the `modelspec[onnx]` extra: onnx, onnxscript, and onnxruntime for the check).
- `.py` is one readable file that imports only torch and safetensors (modelspec.interop.pysource).

Stateful models carry states from one call to the next, which an exported graph cannot: .pt2 and
.onnx refuse them (the .py class keeps modelspec's stateful modules). Recurrent layers that
receive a mask run their step loop in the exported graph: the fused kernel packs padded sequences
by data-dependent lengths, which torch.export cannot trace; the results are the same.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch import fx

from modelspec.checked import CheckedSpec, check_spec
from modelspec.errors import UsageError
from modelspec.files import atomic_write
from modelspec.graph import Graph, is_stateful
from modelspec.interop import ExportError
from modelspec.interop.pysource import write_source
from modelspec.interop.samples import SAMPLE_BATCH, Exported, max_difference, outputs_tuple, sample_inputs
from modelspec.torch_build import build_module
from modelspec.weights import load_weights

#: ONNX opset written by `.onnx` exports.
ONNX_OPSET = 18


# ----- the model -------------------------------------------------------------------------------------
def load_model(prepared: CheckedSpec, weights: str | Path) -> fx.GraphModule:
    """The spec's module with the trained weights, in inference mode (WeightsError when they do not fit)."""
    module = build_module(prepared.graph)
    load_weights(module, weights)
    return module.eval()


def dynamic_shapes(graph: Graph) -> tuple[dict[int, object], ...]:
    """torch.export's dynamic_shapes: one `batch` dimension shared by every input whose batch is open.

    In input order, not by name: forward's parameters are the inputs' names only where those are
    Python identifiers that the generated code does not use (an input `class` is `class_1`)."""
    batch = torch.export.Dim("batch")
    return tuple({0: batch} if spec.shape[0] is None else {} for spec in graph.inputs.values())




def _refuse_stateful(prepared: CheckedSpec, what: str) -> None:
    if is_stateful(prepared.graph):
        raise ExportError(
            f"{what} cannot carry a stateful model's states from one call to the next; export it with "
            "--set to make its recurrent layers stateful: false, or write a .py file (which keeps the states)"
        )


def _loop_masked_recurrences(module: fx.GraphModule) -> None:
    """Recurrent modules called with a mask run Keras's step loop (see the module docstring)."""
    for graph_module in [m for m in module.modules() if isinstance(m, fx.GraphModule)]:
        for node in graph_module.graph.nodes:
            if node.op == "call_module" and node.kwargs.get("mask") is not None:
                for inner in graph_module.get_submodule(node.target).modules():
                    if getattr(inner, "fused", False):
                        inner.fused = False


@contextlib.contextmanager
def quiet_exporters() -> Iterator[None]:
    """torch.export and torch.onnx report progress and deprecations through warnings, logging and print."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._dynamo", "torch.fx", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def export_program(prepared: CheckedSpec, module: fx.GraphModule, inputs: tuple[torch.Tensor, ...]) -> torch.export.ExportedProgram:
    """torch.export of the module, batch dimension dynamic where the spec leaves it open."""
    _loop_masked_recurrences(module)
    try:
        with quiet_exporters():
            return torch.export.export(module, inputs, dynamic_shapes=dynamic_shapes(prepared.graph))
    except Exception as error:  # noqa: BLE001 (torch reports untraceable code with many exception types)
        raise ExportError(f"torch.export could not trace '{prepared.spec.name}': {type(error).__name__}: {_first_line(error)}") from None


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def io_description(graph: Graph) -> dict[str, object]:
    """Names, shapes (batch first, None open) and dtypes of the inputs and outputs."""
    return {
        "name": graph.name,
        "inputs": {name: {"shape": list(spec.shape), "dtype": spec.dtype} for name, spec in graph.inputs.items()},
        "outputs": {name: list(shape) for name, shape in graph.output_shapes.items()},
    }


# ----- the formats ------------------------------------------------------------------------------------
def write_pt2(prepared: CheckedSpec, module: fx.GraphModule, out: Path) -> Exported:
    """torch.export's ExportedProgram, saved with torch.export.save; reloads with torch.export.load."""
    _refuse_stateful(prepared, "a .pt2 export")
    program = export_program(prepared, module, sample_inputs(prepared.graph))
    extra = {"modelspec.json": json.dumps(io_description(prepared.graph))}

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle, quiet_exporters():
            torch.export.save(program, handle, extra_files=extra)

    atomic_write(out, write)
    inputs = sample_inputs(prepared.graph, SAMPLE_BATCH + 1, seed=1)  # another batch size: the batch is dynamic
    with quiet_exporters(), torch.no_grad():
        received = outputs_tuple(torch.export.load(str(out)).module()(*inputs))
        expected = outputs_tuple(module(*inputs))
    return Exported(out, "pt2", max_difference(expected, received))


def _onnx_missing() -> list[str]:
    return [name for name in ("onnx", "onnxscript") if importlib.util.find_spec(name) is None]


def write_onnx(prepared: CheckedSpec, module: fx.GraphModule, out: Path) -> Exported:
    """torch.onnx's dynamo exporter: named inputs and outputs, dynamic batch, checked with onnxruntime when installed."""
    _refuse_stateful(prepared, "an .onnx export")
    missing = _onnx_missing()
    if missing:
        raise ExportError(f"writing .onnx needs {' and '.join(missing)}, which are not installed: pip install 'modelspec[onnx]'")
    graph = prepared.graph
    inputs = sample_inputs(graph)
    _loop_masked_recurrences(module)
    try:
        with quiet_exporters():
            program = torch.onnx.export(
                module,
                inputs,
                input_names=list(graph.inputs),
                output_names=list(graph.outputs),
                dynamic_shapes=dynamic_shapes(graph),
                opset_version=ONNX_OPSET,
                dynamo=True,
                verbose=False,
            )
    except Exception as error:  # noqa: BLE001 (the exporter wraps tracing and translation errors in several types)
        raise ExportError(f"torch.onnx could not export '{prepared.spec.name}': {type(error).__name__}: {_first_line(error)}") from None
    large = sum(p.numel() * p.element_size() for p in module.state_dict().values()) > 1_800_000_000
    with quiet_exporters():
        if large:  # over protobuf's 2 GB: weights go to OUT.data beside the model, written in place
            program.save(str(out), external_data=True)
        else:
            atomic_write(out, lambda temporary: program.save(str(temporary), external_data=False))
    return Exported(out, "onnx", *_check_onnx(module, graph, out))


def _check_onnx(module: fx.GraphModule, graph: Graph, out: Path) -> tuple[float | None, str]:
    if importlib.util.find_spec("onnxruntime") is None:
        return None, "not checked: onnxruntime is not installed"
    import onnxruntime

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    inputs = sample_inputs(graph, SAMPLE_BATCH + 1)
    with torch.no_grad():
        expected = outputs_tuple(module(*inputs))
    received = session.run(list(graph.outputs), {name: tensor.numpy() for name, tensor in zip(graph.inputs, inputs)})
    return max_difference(expected, tuple(received)), ""


def write_python(prepared: CheckedSpec, module: fx.GraphModule, out: Path) -> Exported:
    return write_source(prepared, module, out)


#: Output extension -> writer.
FORMATS: dict[str, Callable[[CheckedSpec, fx.GraphModule, Path], Exported]] = {".pt2": write_pt2, ".onnx": write_onnx, ".py": write_python}


def export(spec: str | Path | CheckedSpec, weights: str | Path, out: str | Path, *, overrides: tuple[str, ...] = (),
           allow_plugins: bool = False) -> Exported:
    """Write the model of `spec` with trained `weights` to `out`, in the format its extension names."""
    out = Path(out)
    writer = FORMATS.get(out.suffix.lower())
    if writer is None:
        raise UsageError(f"-o '{out}': unknown export format '{out.suffix}', expected a file name ending in {', '.join(FORMATS)}")
    if out.suffix.lower() == ".onnx" and _onnx_missing():  # before any work
        raise ExportError(f"writing .onnx needs {' and '.join(_onnx_missing())}, which are not installed: pip install 'modelspec[onnx]'")
    prepared = spec if isinstance(spec, CheckedSpec) else check_spec(spec, overrides, allow_plugins=allow_plugins)
    if out.exists() and out.is_dir():
        raise UsageError(f"-o '{out}' is a directory; give a file name")
    with torch.no_grad():
        module = load_model(prepared, weights)
    return writer(prepared, module, out)


__all__ = ["FORMATS", "ONNX_OPSET", "Exported", "export", "load_model", "write_onnx", "write_pt2", "write_python"]
