"""What Cropping, ZeroPadding and UpSampling (1D, 2D, 3D) share: channels_last spatial axes and Keras's argument forms.

Not a layer type itself (no `type`, not registered). The spec layout is channels_last:
(batch, steps, features), (batch, height, width, channels), (batch, dim1, dim2, dim3, channels).

Amounts of cropping or padding come in Keras's forms:
- 1D: an int (both ends), or [before, after];
- 2D/3D: an int (every axis, both ends), a list of one entry per spatial axis, each an int
  (that axis, both ends) or [before, after], e.g. [[top, bottom], [left, right]].
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from modelspec.config import NonNegativeInt, PositiveInt
from modelspec.errors import ShapeError
from modelspec.layers.base import LayerConfig, ModuleRecord, Shape, format_shape, module_record

#: [before, after] along one axis.
Pair = Annotated[list[NonNegativeInt], Field(min_length=2, max_length=2)]
#: 1D amounts: an int for both ends, or [before, after].
Amount1D = NonNegativeInt | Pair
#: 2D amounts: an int, or [height, width], each an int or [before, after].
Amount2D = NonNegativeInt | Annotated[list[NonNegativeInt | Pair], Field(min_length=2, max_length=2)]
#: 3D amounts: an int, or [dim1, dim2, dim3], each an int or [before, after].
Amount3D = NonNegativeInt | Annotated[list[NonNegativeInt | Pair], Field(min_length=3, max_length=3)]
#: Upsampling factors: an int for every spatial axis, or one per axis.
Size2D = PositiveInt | Annotated[list[PositiveInt], Field(min_length=2, max_length=2)]
Size3D = PositiveInt | Annotated[list[PositiveInt], Field(min_length=3, max_length=3)]

Pairs = tuple[tuple[int, int], ...]


def axis_pairs(value: int | list, spatial_rank: int) -> Pairs:
    """Keras's amount forms as one (before, after) pair per spatial axis."""
    if isinstance(value, int):
        return ((value, value),) * spatial_rank
    if spatial_rank == 1:
        return ((value[0], value[1]),)
    return tuple((entry, entry) if isinstance(entry, int) else (entry[0], entry[1]) for entry in value)


def axis_sizes(value: int | list[int], spatial_rank: int) -> tuple[int, ...]:
    """An int or one factor per spatial axis, as a tuple of factors."""
    return (value,) * spatial_rank if isinstance(value, int) else tuple(value)


class SpatialLayer(LayerConfig):
    """A layer over `spatial_rank` axes between the batch axis and the last (features or channels) axis."""

    spatial_rank: ClassVar[int]
    family = "reshaping"

    def spatial(self, input_shape: Shape) -> Shape:
        """The spatial sizes, after checking the rank (spatial axes + batch + channels)."""
        self.expect_rank(input_shape, self.spatial_rank + 2)
        return tuple(input_shape[1:-1])


class CroppingLayer(SpatialLayer):
    """Removes `cropping` rows (before, after) from each spatial axis; each must keep at least one."""

    def pairs(self) -> Pairs:
        return axis_pairs(self.cropping, self.spatial_rank)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        pairs, sizes = self.pairs(), []
        for axis, (size, (before, after)) in enumerate(zip(self.spatial(input_shape), pairs), start=1):
            if size is not None and before + after >= size:
                raise ShapeError(
                    f"{self.layer_type} cannot crop {before} + {after} from axis {axis} of shape {format_shape(input_shape)}: "
                    f"expected a size above {before + after} on that axis (cropping {pairs_text(pairs)})"
                )
            sizes.append(None if size is None else size - before - after)
        return (input_shape[0], *sizes, input_shape[-1])

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.cropping:Cropping", self.pairs())


class ZeroPaddingLayer(SpatialLayer):
    """Adds `padding` rows of zeros (before, after) to each spatial axis."""

    def pairs(self) -> Pairs:
        return axis_pairs(self.padding, self.spatial_rank)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        sizes = [None if size is None else size + before + after for size, (before, after) in zip(self.spatial(input_shape), self.pairs())]
        return (input_shape[0], *sizes, input_shape[-1])

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.zero_padding:ZeroPadding", self.pairs())


class UpSamplingLayer(SpatialLayer):
    """Repeats each step of every spatial axis `size` times (nearest), or resizes by `size` (bilinear, 2D)."""

    def factors(self) -> tuple[int, ...]:
        return axis_sizes(self.size, self.spatial_rank)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        sizes = [None if size is None else size * factor for size, factor in zip(self.spatial(input_shape), self.factors())]
        return (input_shape[0], *sizes, input_shape[-1])

    def module(self, input_shapes: list[Shape]) -> ModuleRecord:
        return module_record("modelspec.nn.up_sampling:UpSampling", self.factors(), interpolation=getattr(self, "interpolation", "nearest"))


def pairs_text(pairs: Pairs) -> str:
    """((1, 2), (0, 3)) as Keras prints it; one pair as (1, 2)."""
    return str(pairs[0]) if len(pairs) == 1 else str(pairs)
