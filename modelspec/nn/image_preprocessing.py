"""Keras's image resizing, cropping and affine sampling as torch functions, and Resizing and CenterCrop.

The functions work on channels_last batches (batch, height, width, channels) and follow Keras 3's
torch backend (keras/src/backend/torch/image.py): `resize_images` is its `resize` (F.interpolate
with half-pixel centres, "nearest" as nearest-exact, crop or pad to the target aspect ratio
first), `smart_resize_images` is keras.utils.smart_resize, and `affine_sample` is its
`affine_transform` (Keras's 8-number transforms, map_coordinates' index rules for the fill modes),
vectorised over the batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Keras's interpolation names -> F.interpolate's modes (Keras's torch backend uses the same).
RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def image_as_float(x: torch.Tensor) -> torch.Tensor:
    """Integer images as float32 (Keras's image layers compute in float); floating ones unchanged."""
    return x if x.is_floating_point() else x.to(torch.float32)


def to_channels_last(x: torch.Tensor, channels_first: bool) -> torch.Tensor:
    return x.permute(0, 2, 3, 1) if channels_first else x


def from_channels_last(x: torch.Tensor, channels_first: bool) -> torch.Tensor:
    return x.permute(0, 3, 1, 2) if channels_first else x


def aspect_window(height: int, width: int, target_height: int, target_width: int) -> tuple[int, int, int, int]:
    """(top, left, rows, columns) of the largest centred window with the target's aspect ratio (Keras's crop)."""
    rows = max(min(height, int(float(width * target_height) / target_width)), 1)
    columns = max(min(width, int(float(height * target_width) / target_height)), 1)
    return int(float(height - rows) / 2), int(float(width - columns) / 2), rows, columns


def pad_to_aspect(x: torch.Tensor, target_height: int, target_width: int, fill_value: float) -> torch.Tensor:
    """Pad the short side evenly (fill_value) to the target's aspect ratio, as Keras's pad_to_aspect_ratio."""
    height, width = x.shape[1], x.shape[2]
    padded_height = max(height, int(float(width * target_height) / target_width))
    padded_width = max(width, int(float(height * target_width) / target_height))
    top, left = int(float(padded_height - height) / 2), int(float(padded_width - width) / 2)
    if top > 0 or left > 0:
        x = F.pad(x, (0, 0, left, left, top, top), value=fill_value)
    return x


def resize_images(
    x: torch.Tensor,
    size: tuple[int, int],
    interpolation: str = "bilinear",
    *,
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_value: float = 0.0,
) -> torch.Tensor:
    """Keras's ops.image.resize on a channels_last batch (its torch backend's arithmetic)."""
    height, width = size
    if crop_to_aspect_ratio:
        top, left, rows, columns = aspect_window(x.shape[1], x.shape[2], height, width)
        x = x[:, top : top + rows, left : left + columns, :]
    elif pad_to_aspect_ratio:
        x = pad_to_aspect(x, height, width, fill_value)
    align = False if interpolation in ("bilinear", "bicubic") else None
    y = F.interpolate(
        x.permute(0, 3, 1, 2), size=(height, width), mode=RESIZE_MODES[interpolation], align_corners=align,
        antialias=antialias and interpolation != "nearest",
    )
    return y.permute(0, 2, 3, 1)


def smart_resize_images(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """keras.utils.smart_resize: the largest centred window of the target's aspect ratio, resized bilinearly."""
    return resize_images(x, size, "bilinear", crop_to_aspect_ratio=True)


# ----- affine sampling (Keras's affine_transform with map_coordinates' fill rules) --------------
def _mirror_index(index: torch.Tensor, size: int) -> torch.Tensor:
    period = size - 1
    if period == 0:
        return torch.zeros_like(index)
    return torch.abs((index + period) % (2 * period) - period)


def _reflect_index(index: torch.Tensor, size: int) -> torch.Tensor:
    return torch.floor_divide(_mirror_index(2 * index + 1, 2 * size + 1) - 1, 2)


def fix_index(index: torch.Tensor, size: int, fill_mode: str) -> torch.Tensor:
    """An index inside [0, size) for any integer index, by Keras's rule for `fill_mode`."""
    if fill_mode == "wrap":
        return index % size
    if fill_mode == "reflect":
        return _reflect_index(index, size)
    if fill_mode == "mirror":
        return _mirror_index(index, size)
    return index.clamp(0, size - 1)  # constant (masked afterwards) and nearest


def _sample_nodes(coordinate: torch.Tensor, interpolation: str) -> list[tuple[torch.Tensor, torch.Tensor | float]]:
    """The integer indices a coordinate reads and their weights (1 for nearest; two for bilinear)."""
    if interpolation == "nearest":
        return [(torch.round(coordinate).to(torch.int64), 1.0)]
    lower = torch.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.to(torch.int64)
    return [(index, 1.0 - upper_weight), (index + 1, upper_weight)]


def affine_sample(
    images: torch.Tensor, transforms: torch.Tensor, interpolation: str = "bilinear", fill_mode: str = "constant", fill_value: float = 0.0
) -> torch.Tensor:
    """Keras's ops.image.affine_transform on a channels_last batch.

    transforms: (batch, 8), [a0, a1, a2, b0, b1, b2, c0, c1] with c0 = c1 = 0: the output pixel (x, y)
    reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2).
    """
    batch, height, width, _ = images.shape
    t = transforms.to(images.dtype if images.is_floating_point() else torch.float32)
    ys = torch.arange(height, dtype=t.dtype, device=images.device).view(1, height, 1)
    xs = torch.arange(width, dtype=t.dtype, device=images.device).view(1, 1, width)
    a0, a1, a2, b0, b1, b2 = (t[:, i, None, None] for i in range(6))
    y_in = ys * b1 + xs * b0 + b2
    x_in = ys * a1 + xs * a0 + a2
    rows = torch.arange(batch, device=images.device).view(batch, 1, 1)
    output = None
    for y_index, y_weight in _sample_nodes(y_in, interpolation):
        for x_index, x_weight in _sample_nodes(x_in, interpolation):
            values = images[rows, fix_index(y_index, height, fill_mode), fix_index(x_index, width, fill_mode)]
            if fill_mode == "constant":
                inside = (y_index >= 0) & (y_index < height) & (x_index >= 0) & (x_index < width)
                values = torch.where(inside.unsqueeze(-1), values, torch.full_like(values, fill_value))
            weight = y_weight * x_weight
            term = values * (weight.unsqueeze(-1) if isinstance(weight, torch.Tensor) else weight)
            output = term if output is None else output + term
    return output


# ----- modules ----------------------------------------------------------------------------------
class KerasResizing(nn.Module):
    """Keras's Resizing: images resized to (height, width).

    Args: height, width, interpolation ("bilinear", "nearest", "bicubic"), crop_to_aspect_ratio,
    pad_to_aspect_ratio, fill_value (of the padding), antialias, channels_first.
    Shape: (batch, h, w, c) -> (batch, height, width, c) (channels_first: (batch, c, height, width)).
    Examples: KerasResizing(64, 64)(torch.rand(2, 32, 48, 3)).shape == (2, 64, 64, 3)
    """

    def __init__(
        self, height: int, width: int, interpolation: str = "bilinear", *, crop_to_aspect_ratio: bool = False,
        pad_to_aspect_ratio: bool = False, fill_value: float = 0.0, antialias: bool = False, channels_first: bool = False,
    ):
        super().__init__()
        self.size = (height, width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_value = fill_value
        self.antialias = antialias
        self.channels_first = channels_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_channels_last(image_as_float(x), self.channels_first)
        y = resize_images(
            x, self.size, self.interpolation, antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_value=self.fill_value,
        )
        return from_channels_last(y, self.channels_first)

    def extra_repr(self) -> str:
        return f"size={self.size}, interpolation={self.interpolation}"


class KerasCenterCrop(nn.Module):
    """Keras's CenterCrop: the central (height, width) window; an image smaller than that on either
    side is smart-resized instead (the largest centred window of the target aspect ratio, resized).

    Args: height, width, channels_first.
    Shape: (batch, h, w, c) -> (batch, height, width, c).
    """

    def __init__(self, height: int, width: int, *, channels_first: bool = False):
        super().__init__()
        self.size = (height, width)
        self.channels_first = channels_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_channels_last(image_as_float(x), self.channels_first)
        height, width = self.size
        top, left = x.shape[1] - height, x.shape[2] - width
        if top >= 0 and left >= 0:
            y = x[:, top // 2 : top // 2 + height, left // 2 : left // 2 + width, :]
        else:
            y = smart_resize_images(x, self.size)
        return from_channels_last(y, self.channels_first)

    def extra_repr(self) -> str:
        return f"size={self.size}"
