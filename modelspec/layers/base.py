"""The contract every layer type fulfils, and the registry that holds them.

A layer type is one small file in this package: a pydantic config class with
`type: Literal["Name"]` (extra keys forbidden, strict types), decorated with `@register`,
that answers four questions without running anything:

- `output_shapes(input_shapes)`: the shapes it produces (batch dimension first, None unknown);
- `weights(input_shapes)`: its weights by name, with the shapes of the torch parameters
  (PyTorch's layout: a Dense kernel is (units, input_dim) like torch.nn.Linear);
- `output_activation()`: the activation applied last, if any, so that the compiled graph can
  compute a cross-entropy from the logits;
- `module(input_shapes)`: the torch module to make, as data (a `ModuleRecord`: the class's import
  path and its constructor arguments). Nothing here imports torch: modelspec.nn.build.instantiate
  makes the module, and modelspec.interop.pysource writes the same call out as Python source.

Example (YAML):
    - {name: hidden, type: Dense, units: 64, activation: relu, inputs: features}
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import Field

from modelspec.config import Dimension, Identifier, PositiveInt, StrictModel
from modelspec.errors import ShapeError

#: A tensor shape with the batch dimension first; None is an unknown size.
Shape = tuple[int | None, ...]

#: A reference to a tensor: `input_name`, `layer`, `layer@node`, `layer[output]`, `layer@node[output]`.
Reference = Annotated[
    str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(@[0-9]+)?(\[[0-9]+\])?$", max_length=160)
]


@dataclass(frozen=True)
class Weight:
    """One weight tensor of a layer: its shape (PyTorch layout) and whether training updates it."""

    shape: tuple[int, ...]
    trainable: bool = True

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class ModuleRecord:
    """The torch module a layer makes, as data: where its class lives and the arguments of its constructor.

    `target` is "module:Class" (`torch.nn:Identity`, `modelspec.nn.dense:KerasDense`). The arguments
    are plain values (numbers, strings, None, tuples, lists) or records: a wrapped layer's module,
    which becomes the submodule named after the constructor parameter it is passed to.
    """

    target: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def module_record(target: str, *args: Any, **kwargs: Any) -> ModuleRecord:
    """`module_record("modelspec.nn.dense:KerasDense", 784, 64, use_bias=False)`: the record of that constructor call."""
    return ModuleRecord(target, args, kwargs)


#: A nested model's place in a record (a Model layer, or one wrapped): an empty torch.nn.Module that
#: the torch builder (modelspec.torch_build) replaces by the compiled graph of the called model.
NESTED_MODEL = module_record("torch.nn:Module")


class LayerConfig(StrictModel):
    """Keys that every layer entry accepts, and the default behaviour of the contract."""

    name: Identifier | None = Field(None, description="Layer name; defaults to a Keras-style automatic name (dense, dense_1, ...).")
    inputs: Reference | list[Reference] | None = Field(
        None, description="What the layer is called on: input or layer names, `layer@node`, `layer[output]`. Default: the previous entry."
    )
    trainable: bool = Field(True, description="Whether training updates this layer's weights.")
    input_shape: list[Dimension] | None = Field(
        None, description="First layer of a sequential model only: the input shape without the batch dimension (null = any size)."
    )
    batch_size: PositiveInt | None = Field(None, description="First layer of a sequential model only: a fixed batch size.")
    batch_input_shape: list[Dimension] | None = Field(
        None, description="First layer of a sequential model only: the input shape with a fixed batch dimension first."
    )

    #: (fewest, most) tensors the layer is called on; most=None means any number.
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    #: Catalog family (core, convolution, recurrent, merging, ...).
    family: ClassVar[str] = "core"
    #: Keys of the first-layer input declaration (Keras's input_shape, input_dim, ...), in addition to the base ones.
    input_declaration_keys: ClassVar[tuple[str, ...]] = ()
    #: True for wrappers whose `layer` field holds another layer config (built after the registry).
    wraps_layer: ClassVar[bool] = False
    #: A wrapper's fields that hold a layer config, and whether each is optional (Bidirectional's backward_layer).
    layer_fields: ClassVar[dict[str, bool]] = {"layer": False}
    #: dtype of a sequential model's input when this layer comes first (Embedding: int64).
    input_dtype: ClassVar[str] = "float32"
    #: Keras masking. A mask (bool, (batch, steps), True = keep) made by Embedding(mask_zero) or
    #: Masking flows to later layers: a layer that `consumes_mask` gets it as `mask=` in its
    #: module's forward; one that `propagates_mask` passes it on unchanged; any other drops it.
    consumes_mask: ClassVar[bool] = False
    propagates_mask: ClassVar[bool] = False
    #: A consumer of several inputs (attention) gets `mask=[mask of input 0, mask of input 1, ...]`
    #: (None where an input has none) and its output keeps the first input's mask.
    mask_per_input: ClassVar[bool] = False

    # ----- contract -------------------------------------------------------------------------
    def output_shapes(self, input_shapes: list[Shape]) -> list[Shape]:
        """Shapes of the outputs for these inputs. Single-input layers implement compute_output_shape."""
        return [self.compute_output_shape(self.single(input_shapes))]

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        raise NotImplementedError(f"{type(self).__name__} must implement compute_output_shape or output_shapes")

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        """Weights the layer creates when built on these inputs (none by default)."""
        return {}

    def produces_mask(self) -> bool:
        """True when the module returns (output, mask) (Embedding with mask_zero, Masking)."""
        return False

    def keeps_mask(self) -> bool:
        """Whether the output still carries the input's mask (a consuming RNN with return_sequences)."""
        return self.propagates_mask

    def input_bound(self) -> int | None:
        """Integer inputs must lie in [0, bound) (Embedding: input_dim); None when any value goes."""
        return None

    def output_activation(self) -> str | None:
        """The activation applied to the module's output by the compiled graph (Dense, Conv2D: `activation`)."""
        return None

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        """The torch module to make for these inputs (its weights named as `weights` names them)."""
        raise NotImplementedError(f"{type(self).__name__} has no torch module")

    def declared_input_shape(self) -> Shape | None:
        """The input shape declared on a sequential model's first layer, batch first; None when not declared."""
        if self.batch_input_shape is not None:
            return tuple(self.batch_input_shape)
        if self.input_shape is not None:
            return (self.batch_size, *self.input_shape)
        shape = self.declared_feature_shape()
        if shape is not None:
            return (self.batch_size, *shape)
        if self.batch_size is not None:
            raise ShapeError("batch_size needs an input shape too (input_shape, or input_dim where the layer accepts it)")
        return None

    def declared_feature_shape(self) -> tuple[int | None, ...] | None:
        """Layer-specific input declarations (Dense: input_dim). None when the layer has none."""
        return None

    # ----- helpers for implementations ------------------------------------------------------
    @property
    def layer_type(self) -> str:
        return type(self).model_fields["type"].annotation.__args__[0]  # the Literal's value

    def single(self, input_shapes: list[Shape]) -> Shape:
        if len(input_shapes) != 1:
            raise ShapeError(f"{self.layer_type} takes one input, received {len(input_shapes)}")
        return input_shapes[0]

    def known(self, value: int | None, what: str) -> int:
        """A dimension that must be known to build weights, e.g. Dense's input features."""
        if value is None:
            raise ShapeError(f"{self.layer_type} needs a known {what}, received None")
        return value

    def expect_rank(self, shape: Shape, *ranks: int) -> None:
        if len(shape) not in ranks:
            expected = " or ".join(str(r) for r in ranks)
            raise ShapeError(
                f"{self.layer_type} expects an input of rank {expected} (batch included), received shape {format_shape(shape)}"
            )

    def default_name(self) -> str:
        """Base of the automatic name (dense, dense_1, ...); a Model layer uses the model's name."""
        return auto_name_base(self.layer_type)

    def named_nested_layers(self) -> dict[str, LayerConfig]:
        """Layers wrapped by this one, by the name of their torch submodule (TimeDistributed: {"layer": ...})."""
        return {}

    def nested_layers(self) -> list[LayerConfig]:
        return list(self.named_nested_layers().values())

    def activity_penalty(self) -> object | None:
        """A regularizer config applied to the layer's output and added to the loss (Keras's activity_regularizer)."""
        return None


def format_shape(shape: Shape) -> str:
    """(None, 10) as Keras prints it."""
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def auto_name_base(type_name: str) -> str:
    """Keras's automatic layer name: Conv2D -> conv2d, GlobalAveragePooling2D -> global_average_pooling2d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", type_name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


# ----- registry ---------------------------------------------------------------------------------
LAYERS: dict[str, type[LayerConfig]] = {}
L = TypeVar("L", bound=type[LayerConfig])


def register(cls: L) -> L:
    """Class decorator: add a layer config class to the registry under its `type` literal."""
    literal = cls.model_fields["type"].annotation
    (type_name,) = literal.__args__
    if type_name in LAYERS:
        raise RuntimeError(f"layer type {type_name!r} registered twice")
    LAYERS[type_name] = cls
    return cls


def get_layer_class(type_name: str) -> type[LayerConfig]:
    return LAYERS[type_name]

