"""Models in and out of modelspec: exports for other runtimes, Keras configs and weights in.

Out (a spec and its trained safetensors weights):
- `.pt2`: a torch.export ExportedProgram (modelspec.interop.export.write_pt2);
- `.onnx`: an ONNX model through torch.onnx (write_onnx; needs the `modelspec[onnx]` extra);
- `.py`: one standalone PyTorch source file, torch and safetensors only (modelspec.interop.pysource).

In:
- a Keras model config (`model.to_json()`, Keras 2 or 3) becomes a spec (modelspec.interop.keras_config);
- Keras 3 `.weights.h5` files become modelspec safetensors (modelspec.interop.keras_weights; `modelspec[keras]`).

Each starts from a checked spec (modelspec.checked.check_spec), never from the training loop.
Nothing here is imported by the rest of modelspec; the CLI front end is modelspec_cli.commands.export and .convert.
"""

from __future__ import annotations

from modelspec.errors import ModelspecError


class ExportError(ModelspecError):
    """A model cannot be written in the asked format (stateful model, missing extra, unknown extension, ...)."""


class ConversionError(ModelspecError):
    """A file from another framework cannot be read or mapped onto modelspec."""


__all__ = ["ConversionError", "ExportError"]
