"""What the convolution and pooling layers share: Keras's argument forms, output lengths and padding.

Not a layer type itself (no `type`, not registered). The spec layout is channels_last:
(batch, steps, channels), (batch, height, width, channels), (batch, dim1, dim2, dim3, channels).

The arithmetic (window arguments, output lengths as Keras 3 computes them, TensorFlow's `same`
padding, transposed crops) lives in modelspec.shapes, torch-free, where the torch modules
(modelspec.nn.conv, modelspec.nn.pooling) find it too: the shape rules and the modules cannot disagree.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from modelspec.activations import ActivationName
from modelspec.config import NonNegativeInt, PositiveInt
from modelspec.errors import ShapeError
from modelspec.initializers import InitializerName
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, Weight, format_shape, module_record
from modelspec.regularizers import Constraint, Regularized, Regularizer
from modelspec.shapes import conv_output_length, per_axis, smallest_input, transpose_output_length

#: An int for every spatial axis, or one positive int per axis.
AxisSizes = PositiveInt | list[PositiveInt]
#: An int for every spatial axis, or one non-negative int per axis (output_padding).
AxisPaddings = NonNegativeInt | list[NonNegativeInt]
#: The window arguments checked against the layer's number of spatial axes.
WINDOW_ARGUMENTS = ("kernel_size", "strides", "dilation_rate", "pool_size", "output_padding")


# ----- configs --------------------------------------------------------------------------------------
class WindowLayer(LayerConfig):
    """A layer sliding a window over the `rank` spatial axes between the batch and the channels axis."""

    data_format: Literal["channels_last"] = Field(
        "channels_last", description="Only channels_last: (batch, spatial axes..., channels)."
    )

    #: Number of spatial axes (1, 2 or 3).
    rank: ClassVar[int]

    @field_validator(*WINDOW_ARGUMENTS, check_fields=False)
    @classmethod
    def _one_per_axis(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, list) and len(value) != cls.rank:
            raise ValueError(
                f"expected an int or a list of {cls.rank} int{'s' if cls.rank > 1 else ''} (one per spatial axis), "
                f"received {info.field_name}={value}"
            )
        return value

    def axes(self, value: int | list[int]) -> tuple[int, ...]:
        return per_axis(value, self.rank)

    def length(self, axis: int, size: int | None) -> int | None:
        """Output length of spatial axis `axis` for an input length `size`."""
        raise NotImplementedError

    def describe_window(self) -> str:
        """The arguments that decide the output lengths, for error messages."""
        raise NotImplementedError

    def spatial_output(self, input_shape: Shape) -> tuple[int | None, ...]:
        """Output lengths of the spatial axes, after checking the rank; each must be positive."""
        self.expect_rank(input_shape, self.rank + 2)
        spatial = tuple(self.length(axis, size) for axis, size in enumerate(input_shape[1:-1]))
        if any(size is not None and size <= 0 for size in spatial):
            smallest = tuple(smallest_input(lambda n, axis=axis: self.length(axis, n)) for axis in range(self.rank))
            raise ShapeError(
                f"{self.layer_type} with {self.describe_window()} needs larger inputs: received shape "
                f"{format_shape(input_shape)}, expected spatial sizes of at least {format_shape(smallest)} "
                f"(the output would be {format_shape(spatial)})"
            )
        return spatial


class KernelRegularized(Regularized):
    """`<prefix>_regularizer` / `<prefix>_constraint` keys applied to the weights listed in `regularized_weights`.

    Conv layers use Keras's kernel_/bias_ keys; depthwise and separable convolutions replace
    kernel_ by depthwise_ (and pointwise_) as Keras does. No bias weight, no bias penalty.
    """

    def weight_penalties(self) -> list[tuple[str, Any]]:
        return self._by_prefix("regularizer")

    def weight_constraints(self) -> list[tuple[str, Any]]:
        return self._by_prefix("constraint")

    def _by_prefix(self, kind: str) -> list[tuple[str, Any]]:
        found = []
        for prefix, names in self.regularized_weights.items():
            config = getattr(self, f"{prefix}_{kind}", None)
            if config is not None:
                found += [(name, config) for name in names if name != "bias" or getattr(self, "use_bias", True)]
        return found


class DepthwiseKeys(KernelRegularized):
    """Keras's depthwise_ keys in place of kernel_ ones."""

    kernel_regularizer: ClassVar[None] = None
    kernel_constraint: ClassVar[None] = None
    depthwise_initializer: InitializerName = Field("glorot_uniform", description="Initializer of the depthwise kernel.")
    depthwise_regularizer: Regularizer | None = Field(None, description="Penalty on the depthwise kernel added to the loss.")
    depthwise_constraint: Constraint | None = Field(None, description="Projection of the depthwise kernel after each update.")


class ConvLayer(KernelRegularized, WindowLayer):
    """Keras's arguments common to every convolution (BaseConv, BaseDepthwiseConv, BaseSeparableConv, BaseConvTranspose)."""

    kernel_size: AxisSizes = Field(description="Size of the convolution window: an int, or one per spatial axis.")
    strides: AxisSizes = Field(1, description="Stride of the window: an int, or one per spatial axis.")
    padding: Literal["valid", "same"] = Field("valid", description="valid: no padding; same: output = ceil(input / stride).")
    dilation_rate: AxisSizes = Field(1, description="Dilation of the window: an int, or one per spatial axis.")
    activation: ActivationName = Field("linear", description="Activation applied to the output.")
    use_bias: bool = Field(True, description="Whether the layer has a bias vector.")
    bias_initializer: InitializerName = Field("zeros", description="Initializer of the bias.")

    family = "convolution"

    @model_validator(mode="after")
    def _strides_or_dilation(self) -> ConvLayer:
        if max(self.axes(self.strides)) > 1 and max(self.axes(self.dilation_rate)) > 1:
            raise ValueError(
                f"strides > 1 is not supported together with dilation_rate > 1, received strides={self.strides} "
                f"and dilation_rate={self.dilation_rate}"
            )
        return self

    # ----- shape rules ----------------------------------------------------------------------------
    def channels(self, input_shapes: list[Shape]) -> int:
        """The known channel count of the single input, divisible by `groups`."""
        shape = self.single(input_shapes)
        self.expect_rank(shape, self.rank + 2)
        channels = shape[-1]
        if channels is None:
            raise ShapeError(f"{self.layer_type} needs a known channel count (last axis), received shape {format_shape(shape)}")
        groups = getattr(self, "groups", 1)  # BaseConv's channel groups
        if channels % groups:
            raise ShapeError(
                f"{self.layer_type} input channels must be divisible by groups={groups}, "
                f"received shape {format_shape(shape)} ({channels} channels)"
            )
        return channels

    def output_channels(self, channels: int) -> int:
        return self.filters

    def length(self, axis: int, size: int | None) -> int | None:
        return conv_output_length(
            size, self.axes(self.kernel_size)[axis], self.axes(self.strides)[axis], self.axes(self.dilation_rate)[axis], self.padding
        )

    def describe_window(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, strides={self.strides}, dilation_rate={self.dilation_rate} "
            f"and padding '{self.padding}'"
        )

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        channels = self.channels([input_shape])
        return (input_shape[0], *self.spatial_output(input_shape), self.output_channels(channels))

    def output_activation(self) -> str | None:
        return self.activation

    def bias_weight(self, size: int) -> dict[str, Weight]:
        return {"bias": Weight((size,))} if self.use_bias else {}

    def window(self) -> dict[str, Any]:
        """The keyword arguments every convolution module takes."""
        return {
            "strides": self.axes(self.strides),
            "padding": self.padding,
            "dilation_rate": self.axes(self.dilation_rate),
            "use_bias": self.use_bias,
            "bias_initializer": self.bias_initializer,
        }


class BaseConv(ConvLayer):
    """Conv1D, Conv2D, Conv3D: activation(conv(x, kernel) + bias). Kernel (filters, channels / groups, *kernel_size)."""

    filters: PositiveInt = Field(description="Number of output channels.")
    groups: PositiveInt = Field(1, description="Number of channel groups; filters and input channels must divide by it.")
    kernel_initializer: InitializerName = Field("glorot_uniform", description="Initializer of the kernel.")

    @model_validator(mode="after")
    def _filters_divide(self) -> BaseConv:
        if self.filters % self.groups:
            raise ValueError(f"filters must be divisible by groups, received filters={self.filters} and groups={self.groups}")
        return self

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        channels = self.channels(input_shapes)
        return {"kernel": Weight((self.filters, channels // self.groups, *self.axes(self.kernel_size))), **self.bias_weight(self.filters)}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.conv:KerasConv",
            self.channels(input_shapes), self.filters, self.axes(self.kernel_size), groups=self.groups,
            kernel_initializer=self.kernel_initializer, **self.window(),
        )


class BaseDepthwiseConv(DepthwiseKeys, ConvLayer):
    """DepthwiseConv1D/2D: each channel convolved with its own depth_multiplier windows. Kernel (channels * multiplier, 1, *kernel_size)."""

    depth_multiplier: PositiveInt = Field(1, description="Output channels per input channel.")

    regularized_weights: ClassVar[dict[str, tuple[str, ...]]] = {"depthwise": ("kernel",), "bias": ("bias",)}

    def output_channels(self, channels: int) -> int:
        return channels * self.depth_multiplier

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        out = self.output_channels(self.channels(input_shapes))
        return {"kernel": Weight((out, 1, *self.axes(self.kernel_size))), **self.bias_weight(out)}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.conv:KerasDepthwiseConv",
            self.channels(input_shapes), self.depth_multiplier, self.axes(self.kernel_size),
            depthwise_initializer=self.depthwise_initializer, **self.window(),
        )


class BaseSeparableConv(DepthwiseKeys, ConvLayer):
    """SeparableConv1D/2D: a depthwise convolution, then a pointwise (size 1) one mixing the channels."""

    filters: PositiveInt = Field(description="Number of output channels (of the pointwise convolution).")
    depth_multiplier: PositiveInt = Field(1, description="Depthwise output channels per input channel.")
    pointwise_initializer: InitializerName = Field("glorot_uniform", description="Initializer of the pointwise kernel.")
    pointwise_regularizer: Regularizer | None = Field(None, description="Penalty on the pointwise kernel added to the loss.")
    pointwise_constraint: Constraint | None = Field(None, description="Projection of the pointwise kernel after each update.")

    regularized_weights: ClassVar[dict[str, tuple[str, ...]]] = {"depthwise": ("depthwise_kernel",), "pointwise": ("pointwise_kernel",), "bias": ("bias",)}

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        middle = self.channels(input_shapes) * self.depth_multiplier
        return {
            "depthwise_kernel": Weight((middle, 1, *self.axes(self.kernel_size))),
            "pointwise_kernel": Weight((self.filters, middle, *(1,) * self.rank)),
            **self.bias_weight(self.filters),
        }

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.conv:KerasSeparableConv",
            self.channels(input_shapes), self.filters, self.axes(self.kernel_size), depth_multiplier=self.depth_multiplier,
            depthwise_initializer=self.depthwise_initializer, pointwise_initializer=self.pointwise_initializer, **self.window(),
        )


class BaseConvTranspose(ConvLayer):
    """Conv1DTranspose/2D/3D: the gradient of a convolution. Kernel in torch's layout (channels, filters, *kernel_size)."""

    filters: PositiveInt = Field(description="Number of output channels.")
    output_padding: AxisPaddings | None = Field(
        None, description="Extra length at the end of each spatial axis, below the stride; null: Keras's default length."
    )
    kernel_initializer: InitializerName = Field("glorot_uniform", description="Initializer of the kernel.")

    @model_validator(mode="after")
    def _output_padding_below_strides(self) -> BaseConvTranspose:
        paddings = self.paddings()
        if any(p is not None and p >= s for p, s in zip(paddings, self.axes(self.strides))):
            raise ValueError(
                f"output_padding must be smaller than strides on every axis, received output_padding={self.output_padding} "
                f"and strides={self.strides}"
            )
        return self

    def paddings(self) -> tuple[int | None, ...]:
        return (None,) * self.rank if self.output_padding is None else self.axes(self.output_padding)

    def length(self, axis: int, size: int | None) -> int | None:
        return transpose_output_length(
            size, self.axes(self.kernel_size)[axis], self.axes(self.strides)[axis], self.axes(self.dilation_rate)[axis],
            self.padding, self.paddings()[axis],
        )

    def describe_window(self) -> str:
        return f"{super().describe_window()}, output_padding={self.output_padding}"

    def weights(self, input_shapes: list[Shape]) -> dict[str, Weight]:
        channels = self.channels(input_shapes)
        return {"kernel": Weight((channels, self.filters, *self.axes(self.kernel_size))), **self.bias_weight(self.filters)}

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record(
            "modelspec.nn.conv:KerasConvTranspose",
            self.channels(input_shapes), self.filters, self.axes(self.kernel_size), output_padding=self.paddings(),
            kernel_initializer=self.kernel_initializer, **self.window(),
        )
