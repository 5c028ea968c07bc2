"""UpSampling2D: enlarge images by integer factors (batch, height, width, channels).

    - {type: UpSampling2D}                                          # (None, 4, 5, 3) -> (None, 8, 10, 3), rows and columns repeated
    - {type: UpSampling2D, size: [2, 3], interpolation: bilinear}   # (None, 4, 5, 3) -> (None, 8, 15, 3)

`nearest` repeats rows and columns (Keras uses ops.repeat); `bilinear` resizes with half-pixel centres
(Keras's ops.image.resize, PyTorch's interpolate with align_corners=False). Keras's bicubic and
lanczos kernels are not offered: PyTorch's bicubic uses a different coefficient (-0.75 against -0.5).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelspec.layers.base import register
from modelspec.layers.base_reshaping import Size2D, UpSamplingLayer


@register
class UpSampling2D(UpSamplingLayer):
    """(batch, height, width, channels) -> (batch, height * size[0], width * size[1], channels)."""

    type: Literal["UpSampling2D"]
    size: Size2D = Field([2, 2], description="Upsampling factors for rows and columns: an int for both, or [rows, columns].")
    data_format: Literal["channels_last"] = Field("channels_last", description="Only channels_last (batch, height, width, channels).")
    interpolation: Literal["nearest", "bilinear"] = Field("nearest", description="nearest: repeat rows and columns; bilinear: interpolate.")

    spatial_rank = 2
