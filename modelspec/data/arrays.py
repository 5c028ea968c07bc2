"""What the model expects of each array (`ArraySpec`) and what a source gives (`Arrays`): no numpy, no torch.

The training plan turns a checked spec into ArraySpecs (modelspec.plan); sources fill Arrays
(modelspec.data.loading); `check_arrays` holds one against the other (modelspec.data.checks).

    ArraySpec("digit", (None, 10), "float32", "target", label_kind="categorical")   # num_classes 10
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

DTYPES = ("float32", "int32", "int64", "bool")
LABEL_KINDS = ("categorical", "sparse", "binary")
#: Large (memory-mapped) arrays are scanned, and CSV text counted, in slices this big.
CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class ArraySpec:
    """What the model expects of one array.

    Args:
        name: the input or output name.
        shape: batch dimension first; None is any size (a fixed batch size is a stateful model's).
        dtype: "float32", "int32", "int64" or "bool".
        role: "input" or "target".
        num_classes: classes of a categorical or sparse target (categorical: defaults to the last dimension).
        label_kind: "categorical" (one-hot rows), "sparse" (class ids), "binary" (values in [0, 1]) or None.
        high: integer inputs only: values must lie in [0, high) (an Embedding's input_dim).
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: str = "float32"
    role: Literal["input", "target"] = "input"
    num_classes: int | None = None
    label_kind: Literal["categorical", "sparse", "binary"] | None = None
    high: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(self.shape))
        if not self.shape:
            raise ValueError(f"ArraySpec {self.name!r}: the shape needs a batch dimension first")
        if self.dtype not in DTYPES:
            raise ValueError(f"ArraySpec {self.name!r}: dtype {self.dtype!r} is not one of {DTYPES}")
        if self.role not in ("input", "target"):
            raise ValueError(f"ArraySpec {self.name!r}: role {self.role!r} is not 'input' or 'target'")
        if self.label_kind is not None and (self.role != "target" or self.label_kind not in LABEL_KINDS):
            raise ValueError(f"ArraySpec {self.name!r}: label_kind {self.label_kind!r} needs role 'target' and one of {LABEL_KINDS}")
        if self.label_kind == "categorical" and self.num_classes is None and isinstance(self.shape[-1], int):
            object.__setattr__(self, "num_classes", self.shape[-1])
        if self.label_kind in ("categorical", "sparse") and self.num_classes is None:
            raise ValueError(f"ArraySpec {self.name!r}: a {self.label_kind} target needs num_classes")

    @property
    def shape_text(self) -> str:
        return shape_text(self.shape)


class Arrays(dict):
    """Arrays by name (a dict), remembering where each came from for error messages.

    `origins` maps a name to its file (`train.npz:x`); `unused` lists the arrays present in the
    source that match no expected name and were therefore not read (name -> origin): errors
    when targets are expected, only suggestions when inputs alone are (prediction).
    """

    def __init__(self, *args: Any, origins: dict[str, str] | None = None, unused: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.origins: dict[str, str] = dict(origins or {})
        self.unused: dict[str, str] = dict(unused or {})


def shape_text(shape: tuple[int | None, ...]) -> str:
    """'(None, 4)': a shape as messages show it (numpy integers as plain ones)."""
    return str(tuple(None if d is None else int(d) for d in shape))
