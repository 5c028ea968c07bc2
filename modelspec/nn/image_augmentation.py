"""Keras's image augmentation layers as torch modules: random in training, the identity at inference.

Each draws its random numbers as Keras 3 does (one draw per image, RandomCrop one per batch) and
applies Keras's formulas (keras/src/layers/preprocessing/image_preprocessing/). A module given a
`seed` draws from a torch.Generator of its own, seeded once per device, so that two runs repeat the
same augmentations; without one it draws from torch's global generator (seeded by training).
Inputs are channels_last batches unless `channels_first`; integer images become float32.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from modelspec.nn.image_preprocessing import affine_sample, from_channels_last, image_as_float, smart_resize_images, to_channels_last


class SeededAugmentation(nn.Module):
    """Base of the augmentation modules: the seed, the generator per device, and Keras's uniform draws.

    Args: seed (None: torch's global generator), channels_first.
    """

    def __init__(self, seed: int | None = None, channels_first: bool = False):
        super().__init__()
        self.seed = seed
        self.channels_first = channels_first
        self._generators: dict[str, torch.Generator] = {}

    def generator(self, device: torch.device) -> torch.Generator | None:
        """This module's generator on `device` (made and seeded on first use), or None without a seed."""
        if self.seed is None:
            return None
        key = str(device)
        if key not in self._generators:
            self._generators[key] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[key]

    def uniform(self, shape: tuple[int, ...], low: float, high: float, device: torch.device) -> torch.Tensor:
        """float32 draws from U[low, high), as keras.random.uniform(shape, minval=low, maxval=high)."""
        draws = torch.rand(shape, generator=self.generator(device), device=device, dtype=torch.float32)
        return low + (high - low) * draws

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = image_as_float(x)
        if not self.training:
            return x
        return from_channels_last(self.augment(to_channels_last(x, self.channels_first)), self.channels_first)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """The training transformation of a channels_last batch."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"seed={self.seed}"


class KerasRandomFlip(SeededAugmentation):
    """Keras's RandomFlip: each image flipped with probability 1/2 (a draw u <= 0.5).

    Args: mode ("horizontal", "vertical" or "horizontal_and_vertical": one draw flips both axes,
    as Keras 3 does), seed, channels_first. Shape: unchanged.
    """

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None, channels_first: bool = False):
        super().__init__(seed, channels_first)
        self.mode = mode

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        flips = self.uniform((x.shape[0], 1, 1, 1), 0.0, 1.0, x.device) <= 0.5
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            x = torch.where(flips, x.flip(2), x)
        if self.mode in ("vertical", "horizontal_and_vertical"):
            x = torch.where(flips, x.flip(1), x)
        return x

    def extra_repr(self) -> str:
        return f"mode={self.mode}, seed={self.seed}"


class AffineAugmentation(SeededAugmentation):
    """Base of the augmentations that resample the image through an affine transform (rotation, zoom, translation).

    Args: interpolation ("bilinear", "nearest"), fill_mode ("reflect", "wrap", "constant", "nearest"),
    fill_value, seed, channels_first.
    """

    def __init__(
        self, interpolation: str = "bilinear", fill_mode: str = "reflect", fill_value: float = 0.0,
        seed: int | None = None, channels_first: bool = False,
    ):
        super().__init__(seed, channels_first)
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = fill_value

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        transforms = self.transforms(x.shape[0], x.shape[1], x.shape[2], x.device)
        return affine_sample(x, transforms, self.interpolation, self.fill_mode, self.fill_value)

    def transforms(self, batch: int, height: int, width: int, device: torch.device) -> torch.Tensor:
        """(batch, 8) Keras transforms, one drawn per image."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"interpolation={self.interpolation}, fill_mode={self.fill_mode}, fill_value={self.fill_value}, seed={self.seed}"


def rotation_transforms(angles: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Keras's rotation about the image centre by `angles` degrees (positive: counter-clockwise), (batch, 8)."""
    radians = angles * torch.tensor(math.pi / 180.0, dtype=angles.dtype, device=angles.device)
    cx, cy = 0.5 * (width - 1), 0.5 * (height - 1)
    cos, sin = torch.cos(radians), torch.sin(radians)
    a0, a1, b0, b1 = cos, -sin, sin, cos
    a2 = cx - cx * a0 - cy * a1
    b2 = cy - cx * b0 - cy * b1
    zeros = torch.zeros_like(angles)
    return torch.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], dim=1)


class KerasRandomRotation(AffineAugmentation):
    """Keras's RandomRotation: each image rotated by an angle drawn from [lower * 360, upper * 360] degrees.

    Args: lower, upper (fractions of a full turn), interpolation, fill_mode, fill_value, seed, channels_first.
    Shape: unchanged.
    """

    def __init__(self, lower: float, upper: float, **kwargs: object):
        super().__init__(**kwargs)
        self.lower, self.upper = lower, upper

    def transforms(self, batch: int, height: int, width: int, device: torch.device) -> torch.Tensor:
        angles = self.uniform((batch,), self.lower * 360.0, self.upper * 360.0, device)
        return rotation_transforms(angles, height, width)


def zoom_transforms(width_zoom: torch.Tensor, height_zoom: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Keras's zoom about the image centre (a zoom above 1 zooms out), (batch, 8) from (batch,) zooms."""
    zeros = torch.zeros_like(width_zoom)
    x_offset = (width - 1.0) / 2.0 * (1.0 - width_zoom)
    y_offset = (height - 1.0) / 2.0 * (1.0 - height_zoom)
    return torch.stack([width_zoom, zeros, x_offset, zeros, height_zoom, y_offset, zeros, zeros], dim=1)


class KerasRandomZoom(AffineAugmentation):
    """Keras's RandomZoom: each image zoomed by 1 + a draw from [lower, upper] (height; width its own range,
    or the height's zoom when `width_range` is None).

    Args: height_range (lower, upper), width_range (lower, upper) or None, interpolation, fill_mode,
    fill_value, seed, channels_first. Shape: unchanged.
    """

    def __init__(self, height_range: tuple[float, float], width_range: tuple[float, float] | None = None, **kwargs: object):
        super().__init__(**kwargs)
        self.height_range = tuple(height_range)
        self.width_range = None if width_range is None else tuple(width_range)

    def transforms(self, batch: int, height: int, width: int, device: torch.device) -> torch.Tensor:
        height_zoom = self.uniform((batch,), 1.0 + self.height_range[0], 1.0 + self.height_range[1], device)
        width_zoom = height_zoom
        if self.width_range is not None:
            width_zoom = self.uniform((batch,), 1.0 + self.width_range[0], 1.0 + self.width_range[1], device)
        return zoom_transforms(width_zoom, height_zoom, height, width)


def translation_transforms(dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Keras's shift by (dx, dy) pixels (positive: right and down), (batch, 8)."""
    ones, zeros = torch.ones_like(dx), torch.zeros_like(dx)
    return torch.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], dim=1)


class KerasRandomTranslation(AffineAugmentation):
    """Keras's RandomTranslation: each image shifted by draws from [lower, upper] times its height and width.

    Args: height_range, width_range (lower, upper: fractions of the size), interpolation, fill_mode,
    fill_value, seed, channels_first. Shape: unchanged.
    """

    def __init__(self, height_range: tuple[float, float], width_range: tuple[float, float], **kwargs: object):
        super().__init__(**kwargs)
        self.height_range = tuple(height_range)
        self.width_range = tuple(width_range)

    def transforms(self, batch: int, height: int, width: int, device: torch.device) -> torch.Tensor:
        dy = self.uniform((batch,), *self.height_range, device) * height
        dx = self.uniform((batch,), *self.width_range, device) * width
        return translation_transforms(dx, dy)


class KerasRandomCrop(SeededAugmentation):
    """Keras's RandomCrop: in training, one random (height, width) window for the whole batch when the
    images are larger on both sides; otherwise, and at inference, keras.utils.smart_resize (the largest
    centred window of the target aspect ratio, resized bilinearly), as Keras documents.

    Args: height, width, seed, channels_first. Shape: (batch, h, w, c) -> (batch, height, width, c).
    """

    def __init__(self, height: int, width: int, seed: int | None = None, channels_first: bool = False):
        super().__init__(seed, channels_first)
        self.size = (height, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_channels_last(image_as_float(x), self.channels_first)
        height, width = self.size
        if self.training and x.shape[1] > height and x.shape[2] > width:
            top = self._start(x.shape[1] - height)
            left = self._start(x.shape[2] - width)
            y = x[:, top : top + height, left : left + width, :]
        else:
            y = smart_resize_images(x, self.size)
        return from_channels_last(y, self.channels_first)

    def _start(self, slack: int) -> int:
        """A window start drawn from {0, ..., slack}: int(U[0, slack + 1)), as Keras casts its draw.

        Drawn on the CPU: the start slices the batch, so a draw on a GPU would wait for it."""
        return min(int(self.uniform((), 0.0, float(slack + 1), torch.device("cpu")).item()), slack)

    def extra_repr(self) -> str:
        return f"size={self.size}, seed={self.seed}"


class KerasRandomContrast(SeededAugmentation):
    """Keras's RandomContrast: per image, a factor f from [1 - lower, 1 + upper]; each channel becomes
    (x - mean) * f + mean (its mean over height and width), clipped to value_range.

    Args: lower, upper, value_range (low, high), seed, channels_first. Shape: unchanged.
    """

    def __init__(self, lower: float, upper: float, value_range: tuple[float, float] = (0.0, 255.0), seed: int | None = None,
                 channels_first: bool = False):
        super().__init__(seed, channels_first)
        self.lower, self.upper = lower, upper
        self.value_range = tuple(value_range)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        factor = self.uniform((x.shape[0], 1, 1, 1), 1.0 - self.lower, 1.0 + self.upper, x.device).to(x.dtype)
        mean = x.mean(dim=(1, 2), keepdim=True)
        return ((x - mean) * factor + mean).clamp(*self.value_range)

    def extra_repr(self) -> str:
        return f"factor=({self.lower}, {self.upper}), value_range={self.value_range}, seed={self.seed}"


class KerasRandomBrightness(SeededAugmentation):
    """Keras's RandomBrightness: per image, a delta from [lower, upper] * (high - low) added to every
    pixel, the result clipped to value_range (low, high).

    Args: lower, upper (in [-1, 1]), value_range, seed, channels_first. Shape: unchanged.
    """

    def __init__(self, lower: float, upper: float, value_range: tuple[float, float] = (0.0, 255.0), seed: int | None = None,
                 channels_first: bool = False):
        super().__init__(seed, channels_first)
        self.lower, self.upper = lower, upper
        self.value_range = tuple(value_range)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        low, high = self.value_range
        delta = self.uniform((x.shape[0], 1, 1, 1), self.lower, self.upper, x.device) * (high - low)
        return (x + delta.to(x.dtype)).clamp(low, high)

    def extra_repr(self) -> str:
        return f"factor=({self.lower}, {self.upper}), value_range={self.value_range}, seed={self.seed}"
