"""Image preprocessing and augmentation layers (Resizing, CenterCrop, RandomFlip, RandomRotation,
RandomZoom, RandomTranslation, RandomCrop, RandomContrast, RandomBrightness).

Harness cases give Keras 3's output shapes (no weights: 0 parameters). Values are checked against
hand computations (exact flips, the contrast and brightness formulas given the drawn factor, the
draws' ranges), and, where Keras is installed, against Keras 3 itself on its torch backend (run
once in a subprocess): Resizing, CenterCrop and the affine sampling behind rotation, zoom and
translation, within 1e-5.
"""

from __future__ import annotations

import pytest
import torch

from modelspec.nn.build import build_layer
from tests.layer_harness import Case, N, check_case, layer_from

CASES = [
    Case("resizing", {"type": "Resizing", "height": 8, "width": 6}, [(N, 5, 7, 3)], [(N, 8, 6, 3)], (0, 0)),
    Case("resizing_unknown_size", {"type": "Resizing", "height": 4, "width": 4, "interpolation": "nearest"}, [(N, None, None, 1)],
         [(N, 4, 4, 1)], (0, 0), concrete=[(2, 9, 5, 1)]),
    Case("resizing_crop", {"type": "Resizing", "height": 4, "width": 8, "crop_to_aspect_ratio": True}, [(N, 9, 9, 2)], [(N, 4, 8, 2)], (0, 0)),
    Case("resizing_pad_bicubic", {"type": "Resizing", "height": 6, "width": 3, "pad_to_aspect_ratio": True, "interpolation": "bicubic"},
         [(N, 5, 5, 3)], [(N, 6, 3, 3)], (0, 0)),
    Case("resizing_channels_first", {"type": "Resizing", "height": 4, "width": 5, "data_format": "channels_first"}, [(N, 3, 8, 8)],
         [(N, 3, 4, 5)], (0, 0)),
    Case("center_crop", {"type": "CenterCrop", "height": 4, "width": 3}, [(N, 7, 8, 3)], [(N, 4, 3, 3)], (0, 0)),
    Case("center_crop_upscale", {"type": "CenterCrop", "height": 10, "width": 4}, [(N, 6, 6, 1)], [(N, 10, 4, 1)], (0, 0)),
    Case("random_flip", {"type": "RandomFlip"}, [(N, 6, 5, 3)], [(N, 6, 5, 3)], (0, 0)),
    Case("random_flip_horizontal_seeded", {"type": "RandomFlip", "mode": "horizontal", "seed": 3}, [(N, None, None, 3)],
         [(N, None, None, 3)], (0, 0)),
    Case("random_rotation", {"type": "RandomRotation", "factor": 0.2}, [(N, 8, 6, 3)], [(N, 8, 6, 3)], (0, 0)),
    Case("random_rotation_constant_nearest", {"type": "RandomRotation", "factor": [-0.1, 0.3], "fill_mode": "constant",
         "interpolation": "nearest", "fill_value": 1.0, "seed": 1}, [(N, 5, 5, 1)], [(N, 5, 5, 1)], (0, 0)),
    Case("random_zoom", {"type": "RandomZoom", "height_factor": 0.3}, [(N, 6, 6, 2)], [(N, 6, 6, 2)], (0, 0)),
    Case("random_zoom_both_wrap", {"type": "RandomZoom", "height_factor": [-0.5, -0.1], "width_factor": [0.1, 0.4], "fill_mode": "wrap"},
         [(N, 7, 9, 3)], [(N, 7, 9, 3)], (0, 0)),
    Case("random_translation", {"type": "RandomTranslation", "height_factor": 0.2, "width_factor": [-0.3, 0.1]}, [(N, 6, 8, 3)],
         [(N, 6, 8, 3)], (0, 0)),
    Case("random_translation_channels_first", {"type": "RandomTranslation", "height_factor": 0.5, "width_factor": 0.5,
         "fill_mode": "nearest", "data_format": "channels_first"}, [(N, 2, 6, 6)], [(N, 2, 6, 6)], (0, 0)),
    Case("random_crop", {"type": "RandomCrop", "height": 4, "width": 5, "seed": 0}, [(N, 8, 9, 3)], [(N, 4, 5, 3)], (0, 0)),
    Case("random_crop_smaller_input", {"type": "RandomCrop", "height": 6, "width": 6}, [(N, 4, 8, 1)], [(N, 6, 6, 1)], (0, 0)),
    Case("random_contrast", {"type": "RandomContrast", "factor": 0.5}, [(N, 5, 5, 3)], [(N, 5, 5, 3)], (0, 0)),
    Case("random_contrast_range", {"type": "RandomContrast", "factor": [0.2, 0.4], "value_range": [-5.0, 5.0], "seed": 2},
         [(N, 4, 4, 3)], [(N, 4, 4, 3)], (0, 0)),
    Case("random_brightness", {"type": "RandomBrightness", "factor": 0.2, "value_range": [-3.0, 3.0]}, [(N, 4, 6, 3)], [(N, 4, 6, 3)], (0, 0)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_layer(case: Case) -> None:
    check_case(case)


def build(config: dict, *inputs):
    return build_layer(layer_from(config), list(inputs))
