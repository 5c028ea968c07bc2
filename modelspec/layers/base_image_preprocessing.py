"""What Keras's image preprocessing layers share: image tensors, data_format, factors, fill modes.

Resizing and CenterCrop change the image size; the augmentation layers (RandomFlip,
RandomRotation, RandomZoom, RandomTranslation, RandomCrop, RandomContrast, RandomBrightness) are
active in training only and the identity at inference (evaluate, predict, exports), except
RandomCrop, whose inference output is the centre window resized to its size. An augmentation with
a `seed:` draws from a generator of its own (the same augmentations in every run); without one it
draws from torch's global generator, which training seeds from the run's `--seed`.

Inputs are batches of images, (batch, height, width, channels) in channels_last (the default)
or (batch, channels, height, width) in channels_first. Integer images are cast to float32.

    - {type: RandomFlip, mode: horizontal, seed: 7}
    - {type: RandomRotation, factor: 0.1, fill_mode: constant}
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from modelspec.config import NonNegativeInt
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, module_record

Finite = Annotated[float, Field(allow_inf_nan=False)]
#: A Keras factor: one number (the range [-f, f], clipped to the layer's bounds) or [lower, upper].
Factor = Finite | Annotated[list[Finite], Field(min_length=2, max_length=2)]
#: An image size (height or width).
ImageSize = Annotated[int, Field(gt=0, le=65536)]

DataFormat = Annotated[
    Literal["channels_last", "channels_first"],
    Field(description="channels_last: (batch, height, width, channels); channels_first: (batch, channels, height, width)."),
]
ImageSeed = Annotated[
    NonNegativeInt | None,
    Field(description="A generator of the layer's own, seeded with this: the same augmentations in every run; "
          "null: torch's global generator, seeded from the run's --seed."),
]
FillMode = Annotated[
    Literal["reflect", "wrap", "constant", "nearest"],
    Field(description="How points outside the image are filled: reflect (d c b a | a b c d | d c b a), "
          "wrap (a b c d | a b c d), constant (k k | a b c d | k k, k = fill_value), nearest (a a | a b c d | d d)."),
]
AffineInterpolation = Annotated[Literal["bilinear", "nearest"], Field(description="How output pixels are sampled: bilinear or nearest.")]
FillValue = Annotated[Finite, Field(description="The value of the points outside the image when fill_mode is constant.")]
ValueRange = Annotated[
    list[Finite],
    Field(min_length=2, max_length=2, description="[low, high]: the range of the input values; outputs are clipped to it."),
]


def factor_range(factor: float | list[float], bounds: tuple[float, float], name: str = "factor") -> tuple[float, float]:
    """Keras's (lower, upper) of a factor: f -> (max(-|f|, bounds[0]), |f|), [a, b] -> sorted; each inside `bounds`."""
    low, high = bounds
    values = factor if isinstance(factor, list) else [factor]
    if any(v < low or v > high for v in values):
        raise ValueError(f"{name} must be a number or a list of two numbers in [{low:g}, {high:g}], received {name}={factor}")
    if isinstance(factor, list):
        lower, upper = sorted(factor)
        return lower, upper
    return max(-abs(factor), low), abs(factor)


class ImageLayer(LayerConfig):
    """Base of the image preprocessing layers: a rank-4 image input and its data_format. Not registered."""

    data_format: DataFormat = "channels_last"

    family = "preprocessing"

    def image_size(self, input_shape: Shape) -> tuple[int | None, int | None]:
        """(height, width) of a batch of images in this layer's data_format."""
        self.expect_rank(input_shape, 4)
        if self.data_format == "channels_last":
            return input_shape[1], input_shape[2]
        return input_shape[2], input_shape[3]

    def with_size(self, input_shape: Shape, height: int | None, width: int | None) -> Shape:
        """The input shape with its height and width replaced."""
        shape = list(input_shape)
        first = 1 if self.data_format == "channels_last" else 2
        shape[first], shape[first + 1] = height, width
        return tuple(shape)

    def channels_first(self) -> bool:
        return self.data_format == "channels_first"

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        self.image_size(input_shape)
        return input_shape


class RandomImageLayer(ImageLayer):
    """Base of the augmentation layers: training only, seeded, the shape unchanged. Not registered."""

    seed: ImageSeed = None


def check_value_range(value: list[float], name: str = "value_range") -> list[float]:
    """A [low, high] range with low < high (Keras sorts the two; equal ends would divide by zero)."""
    low, high = sorted(value)
    if low == high:
        raise ValueError(f"{name} must be two different numbers [low, high], received {name}={value}")
    return [low, high]


class RandomValueLayer(RandomImageLayer):
    """Base of RandomBrightness and RandomContrast: their `factor` (inside `factor_bounds`) and the images'
    `value_range` (fields of each, in Keras's order) make the module `target(lower, upper, value_range, seed=,
    channels_first=)`. Not registered."""

    factor_bounds: ClassVar[tuple[float, float]]
    target: ClassVar[str]

    @field_validator("factor", check_fields=False)
    @classmethod
    def _factor_in_bounds(cls, value: float | list[float]) -> float | list[float]:
        factor_range(value, cls.factor_bounds)
        return value

    @field_validator("value_range", check_fields=False)
    @classmethod
    def _value_range(cls, value: list[float]) -> list[float]:
        return check_value_range(value)

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        lower, upper = factor_range(self.factor, self.factor_bounds)  # type: ignore[attr-defined]  # the subclass's field
        value_range = tuple(self.value_range)  # type: ignore[attr-defined]  # the subclass's field
        return module_record(self.target, lower, upper, value_range, seed=self.seed, channels_first=self.channels_first())


__all__ = [
    "AffineInterpolation", "DataFormat", "Factor", "FillMode", "FillValue", "ImageLayer", "ImageSeed", "ImageSize",
    "RandomImageLayer", "RandomValueLayer", "ValueRange", "check_value_range", "factor_range",
]
