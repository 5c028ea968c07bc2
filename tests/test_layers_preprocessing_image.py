"""Image preprocessing and augmentation layers (Resizing, CenterCrop, RandomFlip, RandomRotation,
RandomZoom, RandomTranslation, RandomCrop, RandomContrast, RandomBrightness).

Harness cases give Keras 3's output shapes (no weights: 0 parameters). Values are checked against
hand computations (exact flips, the contrast and brightness formulas given the drawn factor, the
draws' ranges), and, where Keras is installed, against Keras 3 itself on its torch backend (run
once in a subprocess): Resizing, CenterCrop and the affine sampling behind rotation, zoom and
translation, within 1e-5.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
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


@contextlib.contextmanager
def fixed_draws(module: torch.nn.Module, values: np.ndarray) -> Iterator[None]:
    """The module's next uniform draws are `values` (reshaped to the draw's shape), whatever its range."""
    module.uniform = lambda shape, low, high, device: torch.tensor(values, dtype=torch.float32).reshape(shape)
    try:
        yield
    finally:
        del module.uniform


# ----- Keras 3 (torch backend) as the reference, run once in a subprocess ---------------------------
KERAS_REFERENCE = r'''
import json, sys
import numpy as np
import keras
from keras import ops

request = json.load(open(sys.argv[1]))
arrays = dict(np.load(sys.argv[2]))
out, shapes = {}, {}
value = lambda t: np.asarray(ops.convert_to_numpy(t))
for case in request["shapes"]:
    layer = getattr(keras.layers, case["type"])(**case["kwargs"])
    layer.build(tuple(case["input"]))
    shapes[case["id"]] = [list(layer.compute_output_shape(tuple(case["input"]))), layer.count_params()]
for case in request["resize"]:
    out[case["id"]] = value(keras.layers.Resizing(**case["kwargs"])(arrays[case["input"]]))
for case in request["center_crop"]:
    out[case["id"]] = value(keras.layers.CenterCrop(**case["kwargs"])(arrays[case["input"]]))
for case in request["smart_resize"]:
    out[case["id"]] = value(keras.preprocessing.image.smart_resize(arrays[case["input"]], case["size"]))
for case in request["affine"]:
    out[case["id"]] = value(ops.image.affine_transform(
        arrays[case["input"]], arrays[case["transform"]], interpolation=case["interpolation"],
        fill_mode=case["fill_mode"], fill_value=case["fill_value"]))
angles = ops.convert_to_tensor(arrays["angles"])
batch = angles.shape[0]
zeros, ones = ops.zeros([batch]), ops.ones([batch])
rotation = keras.layers.RandomRotation(0.1)
out["rotation_matrix"] = value(rotation._compute_affine_matrix(
    center_x=0.5, center_y=0.5, angle=angles, translate_x=zeros, translate_y=zeros, scale=ones, shear_x=zeros, shear_y=zeros,
    height=7, width=9))
out["zoom_matrix"] = value(keras.layers.RandomZoom(0.1)._get_zoom_matrix(ops.convert_to_tensor(arrays["zooms"]), 7, 9))
out["translation_matrix"] = value(keras.layers.RandomTranslation(0.1, 0.1)._get_translation_matrix(ops.convert_to_tensor(arrays["shifts"])))
images = ops.convert_to_tensor(arrays["images"])
contrast = keras.layers.RandomContrast([0.3, 0.3], value_range=(0, 255))
out["contrast"] = value(contrast.transform_images(images, {"contrast_factor": ops.convert_to_tensor(arrays["contrast_factor"])}))
brightness = keras.layers.RandomBrightness(0.3, value_range=(0, 255))
out["brightness"] = value(brightness.transform_images(ops.copy(images), {"rgb_delta": ops.convert_to_tensor(arrays["rgb_delta"])}))
flips = ops.convert_to_tensor(arrays["flips"])
for mode in ("horizontal", "vertical", "horizontal_and_vertical"):
    out["flip_" + mode] = value(keras.layers.RandomFlip(mode).transform_images(images, {"flips": flips}))
for name in ("RandomFlip", "RandomRotation", "RandomContrast", "RandomBrightness"):
    args = {"RandomFlip": {}, "RandomRotation": {"factor": 0.2}, "RandomContrast": {"factor": 0.2}, "RandomBrightness": {"factor": 0.2}}[name]
    out["inference_" + name] = value(getattr(keras.layers, name)(**args)(images, training=False))
np.savez(sys.argv[3], **out)
json.dump(shapes, open(sys.argv[4], "w"))
'''

RESIZE = [  # (id, input, Resizing's arguments)
    ("bilinear_up", "a", {"height": 12, "width": 20}),
    ("bilinear_down", "b", {"height": 5, "width": 7}),
    ("nearest_up", "a", {"height": 15, "width": 11, "interpolation": "nearest"}),
    ("nearest_down", "b", {"height": 7, "width": 5, "interpolation": "nearest"}),
    ("bicubic_up", "a", {"height": 10, "width": 13, "interpolation": "bicubic"}),
    ("bicubic_down", "b", {"height": 6, "width": 6, "interpolation": "bicubic"}),
    ("bilinear_antialias_down", "b", {"height": 5, "width": 4, "antialias": True}),
    ("crop_to_aspect_ratio", "a", {"height": 8, "width": 4, "crop_to_aspect_ratio": True}),
    ("crop_to_aspect_ratio_nearest", "b", {"height": 4, "width": 9, "crop_to_aspect_ratio": True, "interpolation": "nearest"}),
    ("pad_to_aspect_ratio", "a", {"height": 6, "width": 6, "pad_to_aspect_ratio": True, "fill_value": 3.0}),
    ("pad_to_aspect_ratio_wide", "b", {"height": 4, "width": 9, "pad_to_aspect_ratio": True}),
]
CENTER_CROP = [("odd_margin", "a", 4, 6), ("full_width", "a", 6, 9), ("taller_than_input", "a", 10, 4), ("square", "b", 5, 5)]
SMART_RESIZE = [("a_6x6", "a", [6, 6]), ("b_20x10", "b", [20, 10])]
AFFINE = [(kind, interpolation, fill_mode) for kind in ("rotation", "zoom", "translation") for interpolation in ("bilinear", "nearest")
          for fill_mode in ("reflect", "wrap", "constant", "nearest")]


def reference_inputs() -> dict[str, np.ndarray]:
    from modelspec.nn import image_augmentation as aug

    rng = np.random.default_rng(0)
    angles = rng.uniform(-180, 180, 4).astype(np.float32)
    zooms = rng.uniform(0.5, 1.6, (4, 2)).astype(np.float32)
    shifts = (rng.uniform(-0.4, 0.4, (4, 2)) * [9, 7]).astype(np.float32)
    arrays = {
        "a": rng.uniform(0, 255, (2, 7, 9, 3)).astype(np.float32),
        "b": rng.uniform(0, 1, (1, 16, 12, 2)).astype(np.float32),
        "images": rng.uniform(0, 255, (4, 7, 9, 3)).astype(np.float32),
        "angles": angles, "zooms": zooms, "shifts": shifts,
        "contrast_factor": rng.uniform(0.5, 1.5, (4, 1, 1, 1)).astype(np.float32),
        "rgb_delta": rng.uniform(-80, 80, (4, 1, 1, 1)).astype(np.float32),
        "flips": np.array([True, False, True, False]).reshape(4, 1, 1, 1),
    }
    t = torch.from_numpy
    arrays["rotation"] = aug.rotation_transforms(t(angles), 7, 9).numpy()
    arrays["zoom"] = aug.zoom_transforms(t(zooms[:, 0]), t(zooms[:, 1]), 7, 9).numpy()
    arrays["translation"] = aug.translation_transforms(t(shifts[:, 0]), t(shifts[:, 1])).numpy()
    return arrays


def keras_config(config: dict) -> dict:
    return {key: value for key, value in config.items() if key != "type"}


@pytest.fixture(scope="module")
def keras_reference(tmp_path_factory) -> tuple[dict, dict, dict]:
    """(Keras's outputs, Keras's (output shape, parameter count) per harness case, the inputs)."""
    if importlib.util.find_spec("keras") is None:
        pytest.skip("Keras is not installed")
    folder = tmp_path_factory.mktemp("keras")
    arrays = reference_inputs()
    request = {
        "shapes": [{"id": c.id, "type": c.config["type"], "kwargs": keras_config(c.config), "input": list(c.inputs[0])} for c in CASES],
        "resize": [{"id": i, "input": name, "kwargs": kwargs} for i, name, kwargs in RESIZE],
        "center_crop": [{"id": i, "input": name, "kwargs": {"height": h, "width": w}} for i, name, h, w in CENTER_CROP],
        "smart_resize": [{"id": i, "input": name, "size": size} for i, name, size in SMART_RESIZE],
        "affine": [{"id": "_".join(c), "input": "images", "transform": c[0], "interpolation": c[1], "fill_mode": c[2], "fill_value": 7.0}
                   for c in AFFINE],
    }
    (folder / "request.json").write_text(json.dumps(request))
    np.savez(folder / "inputs.npz", **arrays)
    env = {**os.environ, "KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}
    paths = [str(folder / name) for name in ("request.json", "inputs.npz", "outputs.npz", "shapes.json")]
    done = subprocess.run([sys.executable, "-c", KERAS_REFERENCE, *paths], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(paths[2])), json.loads(Path(paths[3]).read_text()), arrays


def max_difference(ours: torch.Tensor, theirs: np.ndarray) -> float:
    assert tuple(ours.shape) == theirs.shape
    return float(np.abs(ours.detach().numpy() - theirs).max())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_shapes_and_parameter_counts_are_keras(keras_reference, case: Case) -> None:
    _, shapes, _ = keras_reference
    shape, params = shapes[case.id]
    assert list(layer_from(case.config).output_shapes(case.inputs)[0]) == shape
    assert params == 0 == sum(case.params)


@pytest.mark.parametrize(("case_id", "name", "kwargs"), RESIZE, ids=[r[0] for r in RESIZE])
def test_resizing_is_keras(keras_reference, case_id: str, name: str, kwargs: dict) -> None:
    outputs, _, arrays = keras_reference
    x = torch.from_numpy(arrays[name])
    ours = build({"type": "Resizing", **kwargs}, (N, *x.shape[1:]))(x)
    assert max_difference(ours, outputs[case_id]) <= 1e-5


@pytest.mark.parametrize(("case_id", "name", "height", "width"), CENTER_CROP, ids=[c[0] for c in CENTER_CROP])
def test_center_crop_is_keras(keras_reference, case_id: str, name: str, height: int, width: int) -> None:
    outputs, _, arrays = keras_reference
    x = torch.from_numpy(arrays[name])
    ours = build({"type": "CenterCrop", "height": height, "width": width}, (N, *x.shape[1:]))(x)
    assert max_difference(ours, outputs[case_id]) <= 1e-5


@pytest.mark.parametrize(("case_id", "name", "size"), SMART_RESIZE, ids=[c[0] for c in SMART_RESIZE])
def test_random_crop_at_inference_is_keras_smart_resize(keras_reference, case_id: str, name: str, size: list[int]) -> None:
    outputs, _, arrays = keras_reference
    x = torch.from_numpy(arrays[name])
    module = build({"type": "RandomCrop", "height": size[0], "width": size[1]}, (N, *x.shape[1:])).eval()
    assert max_difference(module(x), outputs[case_id]) <= 1e-5


@pytest.mark.parametrize(("kind", "interpolation", "fill_mode"), AFFINE, ids=["_".join(c) for c in AFFINE])
def test_affine_sampling_is_keras(keras_reference, kind: str, interpolation: str, fill_mode: str) -> None:
    from modelspec.nn.image_preprocessing import affine_sample

    outputs, _, arrays = keras_reference
    ours = affine_sample(torch.from_numpy(arrays["images"]), torch.from_numpy(arrays[kind]), interpolation, fill_mode, 7.0)
    assert max_difference(ours, outputs[f"{kind}_{interpolation}_{fill_mode}"]) <= 1e-5


def test_transforms_are_keras_matrices(keras_reference) -> None:
    outputs, _, arrays = keras_reference
    for kind in ("rotation", "zoom", "translation"):
        assert np.abs(arrays[kind] - outputs[f"{kind}_matrix"]).max() <= 1e-5, kind


def test_contrast_brightness_and_flips_given_the_draws_are_keras(keras_reference) -> None:
    outputs, _, arrays = keras_reference
    images = torch.from_numpy(arrays["images"])
    contrast = build({"type": "RandomContrast", "factor": 0.3}, (N, 7, 9, 3))
    brightness = build({"type": "RandomBrightness", "factor": 0.3}, (N, 7, 9, 3))
    with fixed_draws(contrast, arrays["contrast_factor"]):
        assert max_difference(contrast.train()(images), outputs["contrast"]) <= 1e-4
    with fixed_draws(brightness, arrays["rgb_delta"] / 255.0):
        assert max_difference(brightness.train()(images), outputs["brightness"]) <= 1e-4
    for mode in ("horizontal", "vertical", "horizontal_and_vertical"):
        flip = build({"type": "RandomFlip", "mode": mode}, (N, 7, 9, 3))
        with fixed_draws(flip, np.where(arrays["flips"], 0.25, 0.75)):
            assert max_difference(flip.train()(images), outputs[f"flip_{mode}"]) == 0.0, mode
    for name in ("RandomFlip", "RandomRotation", "RandomContrast", "RandomBrightness"):
        assert np.array_equal(outputs[f"inference_{name}"], arrays["images"]), name
