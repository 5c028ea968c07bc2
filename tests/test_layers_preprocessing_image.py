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
model = keras.Sequential([keras.Input((16, 16, 3))] + [getattr(keras.layers, t)(**kwargs) for t, kwargs in request["model"]], name="augmented")
open(sys.argv[5], "w").write(model.to_json())
shapes["model"] = [list(layer.output.shape) for layer in model.layers]
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
#: A Keras model of every image layer, converted by `modelspec convert`.
KERAS_MODEL = [
    ("Resizing", {"height": 12, "width": 14, "crop_to_aspect_ratio": True}), ("RandomFlip", {"mode": "horizontal", "seed": 3}),
    ("RandomRotation", {"factor": 0.1, "fill_mode": "constant"}), ("RandomZoom", {"height_factor": 0.2, "width_factor": [-0.1, 0.3]}),
    ("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.2}), ("RandomContrast", {"factor": 0.2}),
    ("RandomBrightness", {"factor": 0.1, "value_range": [0, 1]}), ("RandomCrop", {"height": 10, "width": 10}),
    ("CenterCrop", {"height": 8, "width": 6}), ("Flatten", {}), ("Dense", {"units": 2, "activation": "softmax"}),
]
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
        "model": KERAS_MODEL,
    }
    (folder / "request.json").write_text(json.dumps(request))
    np.savez(folder / "inputs.npz", **arrays)
    env = {**os.environ, "KERAS_BACKEND": "torch", "CUDA_VISIBLE_DEVICES": ""}
    paths = [str(folder / name) for name in ("request.json", "inputs.npz", "outputs.npz", "shapes.json", "augmented.json")]
    done = subprocess.run([sys.executable, "-c", KERAS_REFERENCE, *paths], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(np.load(paths[2])), json.loads(Path(paths[3]).read_text()), {**arrays, "model_json": paths[4]}


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


def test_a_keras_model_of_image_layers_converts_with_its_shapes(keras_reference, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from modelspec.checked import check_spec
    from modelspec_cli.main import main

    _, shapes, arrays = keras_reference
    result = CliRunner().invoke(main, ["convert", arrays["model_json"], "-o", str(tmp_path / "augmented.yaml")])
    assert result.exit_code == 0, result.output
    graph = check_spec(tmp_path / "augmented.yaml").graph
    ours = [list(layer.nodes[0].output_shapes[0]) for name, layer in graph.layers.items() if layer.config.type != "Input"]
    assert ours == shapes["model"]
    contrast = next(layer.config for layer in graph.layers.values() if layer.config.type == "RandomContrast")
    assert contrast.factor == [0, 0.2]  # Keras 3 stores (0, f) for f: the same draws in [1, 1 + f]


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


# ----- without Keras: hand computations ----------------------------------------------------------
AUGMENTATIONS = [
    {"type": "RandomFlip"},
    {"type": "RandomRotation", "factor": 0.2},
    {"type": "RandomZoom", "height_factor": 0.3, "width_factor": [-0.2, 0.4]},
    {"type": "RandomTranslation", "height_factor": 0.2, "width_factor": 0.3},
    {"type": "RandomContrast", "factor": [0.5, 0.5]},
    {"type": "RandomBrightness", "factor": 0.3},
]


def images(batch: int = 8, height: int = 6, width: int = 7, channels: int = 3, seed: int = 0) -> torch.Tensor:
    return torch.rand(batch, height, width, channels, generator=torch.Generator().manual_seed(seed)) * 255


@pytest.mark.parametrize("config", AUGMENTATIONS, ids=lambda c: c["type"])
def test_augmentations_are_the_identity_at_inference_and_change_images_in_training(config: dict) -> None:
    x = images()
    module = build(config, (N, 6, 7, 3))
    assert torch.equal(module.eval()(x), x)
    torch.manual_seed(0)
    y = module.train()(x)
    assert y.shape == x.shape and not torch.equal(y, x)


@pytest.mark.parametrize("config", AUGMENTATIONS + [{"type": "RandomCrop", "height": 3, "width": 4}], ids=lambda c: c["type"])
def test_a_seeded_layer_repeats_and_an_unseeded_one_follows_the_global_seed(config: dict) -> None:
    x = images()
    first, second = (build({**config, "seed": 11}, (N, 6, 7, 3)).train() for _ in range(2))
    torch.manual_seed(0)
    a = [first(x) for _ in range(3)]
    torch.manual_seed(1)  # the global generator does not move a seeded layer
    b = [second(x) for _ in range(3)]
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    assert not torch.equal(a[0], a[1]) or not torch.equal(a[1], a[2])  # the draws go on from call to call
    other = build({**config, "seed": 12}, (N, 6, 7, 3)).train()
    assert not torch.equal(other(x), a[0])
    unseeded = build(config, (N, 6, 7, 3)).train()
    torch.manual_seed(5)
    c = unseeded(x)
    torch.manual_seed(5)
    assert torch.equal(unseeded(x), c)


@pytest.mark.parametrize(("mode", "flipped"), [
    ("horizontal", lambda x: x.flip(1)), ("vertical", lambda x: x.flip(0)), ("horizontal_and_vertical", lambda x: x.flip(0).flip(1)),
])
def test_random_flip_flips_exactly_half_of_the_images(mode: str, flipped) -> None:
    x = images(batch=400, height=3, width=4, channels=2)
    y = build({"type": "RandomFlip", "mode": mode, "seed": 0}, (N, 3, 4, 2)).train()(x)
    same = [torch.equal(out, image) for out, image in zip(y, x)]
    flips = [torch.equal(out, flipped(image)) for out, image in zip(y, x)]
    assert all(s != f for s, f in zip(same, flips))  # every image is itself or its flip, exactly
    assert 160 < sum(flips) < 240  # p = 1/2: 200 +- 4 standard deviations


def test_random_flip_in_channels_first_flips_the_same_axes() -> None:
    x = images(batch=16)
    last = build({"type": "RandomFlip", "seed": 4}, (N, 6, 7, 3)).train()(x)
    first = build({"type": "RandomFlip", "seed": 4, "data_format": "channels_first"}, (N, 3, 6, 7)).train()(x.permute(0, 3, 1, 2))
    assert torch.equal(first.permute(0, 2, 3, 1), last)


def seeded_uniform(seed: int, shape: tuple[int, ...], low: float, high: float) -> torch.Tensor:
    """The draws a layer with this seed makes first, computed here from the same generator."""
    return low + (high - low) * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


def test_random_contrast_is_the_keras_formula_given_its_factor() -> None:
    x = images(batch=5).double().float()
    y = build({"type": "RandomContrast", "factor": [0.4, 0.3], "seed": 9}, (N, 6, 7, 3)).train()(x)  # sorted, as Keras: [0.3, 0.4]
    factor = seeded_uniform(9, (5, 1, 1, 1), 0.7, 1.4).numpy()
    array = x.numpy().astype(np.float64)
    mean = array.mean(axis=(1, 2), keepdims=True)
    expected = np.clip((array - mean) * factor + mean, 0, 255)
    assert np.abs(y.numpy() - expected).max() < 1e-3


def test_random_brightness_is_the_keras_formula_given_its_delta() -> None:
    x = images(batch=5) / 255.0
    y = build({"type": "RandomBrightness", "factor": [-0.2, 0.5], "value_range": [0, 1], "seed": 2}, (N, 6, 7, 3)).train()(x)
    delta = seeded_uniform(2, (5, 1, 1, 1), -0.2, 0.5).numpy() * 1.0
    assert np.abs(y.numpy() - np.clip(x.numpy() + delta, 0, 1)).max() < 1e-6


def test_the_factors_drawn_lie_in_their_ranges_and_fill_them() -> None:
    """Statistics of 4,000 draws: each within Keras's range, their mean and spread those of a uniform one."""
    x = torch.full((4000, 3, 3, 1), 100.0) + torch.arange(9.0).view(1, 3, 3, 1)  # a centred ramp: (x - mean) scales exactly
    contrast = build({"type": "RandomContrast", "factor": 0.5, "value_range": [-1e6, 1e6]}, (N, 3, 3, 1)).train()
    torch.manual_seed(0)
    factors = ((contrast(x) - 104.0) / (x - 104.0))[:, 0, 0, 0]
    check_uniform(factors, 1.0, 1.5)  # a single number f: [1, 1 + f], as Keras 3 draws
    brightness = build({"type": "RandomBrightness", "factor": 0.25, "value_range": [-1e3, 1e3]}, (N, 3, 3, 1)).train()
    check_uniform((brightness(x) - x)[:, 0, 0, 0] / 2000.0, -0.25, 0.25)
    rotation = build({"type": "RandomRotation", "factor": [-0.1, 0.3]}, (N, 3, 3, 1)).train()
    t = rotation.transforms(4000, 3, 3, torch.device("cpu"))
    check_uniform(torch.rad2deg(torch.atan2(t[:, 3], t[:, 0])), -36.0, 108.0)
    zoom = build({"type": "RandomZoom", "height_factor": [-0.5, 0.2], "width_factor": 0.1}, (N, 3, 3, 1)).train()
    t = zoom.transforms(4000, 3, 3, torch.device("cpu"))
    check_uniform(t[:, 4], 0.5, 1.2)
    check_uniform(t[:, 0], 0.9, 1.1)
    shift = build({"type": "RandomTranslation", "height_factor": [0.0, 0.5], "width_factor": 0.2}, (N, 10, 20, 1)).train()
    t = shift.transforms(4000, 10, 20, torch.device("cpu"))
    check_uniform(-t[:, 5] / 10, 0.0, 0.5)
    check_uniform(-t[:, 2] / 20, -0.2, 0.2)


def check_uniform(draws: torch.Tensor, low: float, high: float) -> None:
    width = high - low
    assert draws.min() >= low - 1e-4 * width and draws.max() <= high + 1e-4 * width
    assert draws.min() < low + 0.01 * width and draws.max() > high - 0.01 * width
    assert abs(float(draws.mean()) - (low + high) / 2) < 0.02 * width  # standard error: 0.0046 * width
    assert abs(float(draws.std()) - width / 12**0.5) < 0.02 * width


def test_rotation_by_a_quarter_turn_moves_the_pixels_exactly() -> None:
    """A square image turned +90 degrees (counter-clockwise) by the sampler: rot90, no interpolation error."""
    from modelspec.nn.image_augmentation import rotation_transforms
    from modelspec.nn.image_preprocessing import affine_sample

    x = images(batch=1, height=5, width=5)
    y = affine_sample(x, rotation_transforms(torch.tensor([90.0]), 5, 5), "nearest", "constant", 0.0)
    assert torch.equal(y, torch.rot90(x, k=1, dims=(1, 2)))


def test_a_translation_by_whole_pixels_shifts_and_fills() -> None:
    from modelspec.nn.image_augmentation import translation_transforms
    from modelspec.nn.image_preprocessing import affine_sample

    x = images(batch=1, height=4, width=5)
    y = affine_sample(x, translation_transforms(torch.tensor([2.0]), torch.tensor([1.0])), "bilinear", "constant", -1.0)
    assert torch.allclose(y[:, 1:, 2:], x[:, :-1, :-2]) and (y[:, :1] == -1).all() and (y[:, :, :2] == -1).all()
    wrapped = affine_sample(x, translation_transforms(torch.tensor([2.0]), torch.tensor([1.0])), "nearest", "wrap", 0.0)
    assert torch.equal(wrapped, torch.roll(x, shifts=(1, 2), dims=(1, 2)))
    nearest = affine_sample(x, translation_transforms(torch.tensor([-3.0]), torch.tensor([0.0])), "nearest", "nearest", 0.0)
    assert torch.equal(nearest[:, :, 2:], x[:, :, 4:5].expand(1, 4, 3, 3))
    reflect = affine_sample(x, translation_transforms(torch.tensor([2.0]), torch.tensor([0.0])), "nearest", "reflect", 0.0)
    assert torch.equal(reflect[:, :, :2], x[:, :, [1, 0]])  # (b a | a b c d e)


def test_random_crop_takes_one_window_per_batch_in_training() -> None:
    x = images(batch=3, height=6, width=7)
    layer = build({"type": "RandomCrop", "height": 4, "width": 5, "seed": 0}, (N, 6, 7, 3)).train()
    seen = set()
    for _ in range(60):
        y = layer(x)
        matches = [(top, left) for top in range(3) for left in range(3) if torch.equal(y, x[:, top : top + 4, left : left + 5])]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == {(top, left) for top in range(3) for left in range(3)}  # every window position is drawn


def test_random_crop_and_center_crop_keep_the_centre_when_not_training() -> None:
    x = images(batch=2, height=8, width=8)
    centre = build({"type": "CenterCrop", "height": 4, "width": 6}, (N, 8, 8, 3))(x)
    assert torch.equal(centre, x[:, 2:6, 1:7])
    smart = build({"type": "RandomCrop", "height": 4, "width": 4}, (N, 8, 8, 3)).eval()(x)
    assert torch.allclose(smart, x.view(2, 4, 2, 4, 2, 3).mean(dim=(2, 4)), atol=1e-4)  # 8x8 -> 4x4 bilinear: 2x2 means


def test_resizing_by_hand() -> None:
    x = images(batch=2, height=3, width=4)
    nearest = build({"type": "Resizing", "height": 6, "width": 12, "interpolation": "nearest"}, (N, 3, 4, 3))(x)
    assert torch.equal(nearest, x.repeat_interleave(2, dim=1).repeat_interleave(3, dim=2))
    flat = build({"type": "Resizing", "height": 7, "width": 5}, (N, 3, 4, 3))(torch.full((1, 3, 4, 3), 42.0))
    assert torch.allclose(flat, torch.full((1, 7, 5, 3), 42.0))
    cropped = build({"type": "Resizing", "height": 3, "width": 3, "crop_to_aspect_ratio": True}, (N, 3, 5, 3))(images(1, 3, 5))
    assert torch.allclose(cropped, images(1, 3, 5)[:, :, 1:4])  # the centred 3x3 window, resized to itself
    padded = build({"type": "Resizing", "height": 5, "width": 5, "pad_to_aspect_ratio": True, "fill_value": -1.0}, (N, 3, 5, 3))
    out = padded(images(1, 3, 5))
    assert torch.allclose(out[:, 1:4], images(1, 3, 5)) and (out[:, [0, 4]] == -1).all()


def test_integer_images_come_out_as_float32() -> None:
    x = torch.randint(0, 256, (2, 6, 7, 3), dtype=torch.uint8)
    for config in [*AUGMENTATIONS, {"type": "Resizing", "height": 3, "width": 3}, {"type": "CenterCrop", "height": 3, "width": 3}]:
        module = build(config, (N, 6, 7, 3))
        assert module.eval()(x).dtype == torch.float32 and module.train()(x).dtype == torch.float32, config["type"]
    assert torch.equal(build({"type": "RandomFlip"}, (N, 6, 7, 3)).eval()(x), x.float())


# ----- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("config", "expected"), [
    ({"type": "RandomRotation", "factor": 1.5}, "factor must be a number or a list of two numbers in [-1, 1], received factor=1.5"),
    ({"type": "RandomRotation", "factor": [0.1, 0.2, 0.3]}, "at most 2 items"),
    ({"type": "RandomContrast", "factor": -0.1}, "in [0, 1], received factor=-0.1"),
    ({"type": "RandomZoom", "height_factor": -1.0}, "height_factor must be a number or a list of two numbers in (-1, 1], received height_factor=-1.0"),
    ({"type": "RandomZoom", "height_factor": 0.1, "width_factor": [0.2, 1.5]}, "received width_factor=[0.2, 1.5]"),
    ({"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 2.0}, "received width_factor=2.0"),
    ({"type": "RandomBrightness", "factor": 0.1, "value_range": [1.0, 1.0]}, "value_range must be two different numbers"),
    ({"type": "Resizing", "height": 4, "width": 4, "interpolation": "lanczos3"}, "PyTorch has no Lanczos kernel"),
    ({"type": "Resizing", "height": 4, "width": 4, "crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "not both"),
    ({"type": "Resizing", "height": 0, "width": 4}, "greater than 0"),
    ({"type": "RandomFlip", "mode": "horizontally"}, "horizontal"),
    ({"type": "RandomRotation", "factor": 0.1, "fill_mode": "mirror"}, "reflect"),
])
def test_bad_arguments_are_refused_with_the_value_received(config: dict, expected: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as raised:
        layer_from(config)
    assert expected in str(raised.value)


@pytest.mark.parametrize("config", [{"type": "RandomFlip"}, {"type": "Resizing", "height": 2, "width": 2}, {"type": "RandomCrop", "height": 2, "width": 2}])
def test_images_must_be_a_rank_4_batch(config: dict) -> None:
    from modelspec.errors import ShapeError

    with pytest.raises(ShapeError, match=r"expects an input of rank 4 \(batch included\), received shape \(None, 28, 28\)"):
        layer_from(config).output_shapes([(N, 28, 28)])


# ----- in a model: trained with augmentation, evaluated and predicted without ---------------------
AUGMENTED_CNN = """
name: augmented_cnn
sequential:
  - {type: Input, shape: [12, 12, 1]}
  - {type: RandomFlip, mode: horizontal, seed: 1}
  - {type: RandomRotation, factor: 0.05, fill_mode: constant}
  - {type: Conv2D, filters: 4, kernel_size: 3, activation: relu}
  - {type: GlobalMaxPooling2D}
  - {type: Dense, units: 2, activation: softmax}
compile: {optimizer: {type: adam, learning_rate: 0.05}, loss: sparse_categorical_crossentropy, metrics: [accuracy]}
fit: {epochs: 6, batch_size: 16}
data: {train: train.npz, test: train.npz}
"""


def blobs_and_rings(samples: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Flip- and rotation-invariant classes: a bright centre (0) or a bright border (1), with noise."""
    rng = np.random.default_rng(0)
    labels = np.arange(samples) % 2
    x = rng.uniform(0, 0.3, (samples, 12, 12, 1)).astype(np.float32)
    x[labels == 0, 4:8, 4:8] += 1.0
    x[labels == 1, :2] += 1.0
    x[labels == 1, -2:] += 1.0
    return x, labels.astype(np.int64)


def test_a_cnn_trains_with_augmentation_and_predicts_without(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from modelspec.checked import check_spec
    from modelspec.training.run import TrainingRun
    from modelspec_cli.main import main
    from tests.helpers import write

    x, y = blobs_and_rings()
    np.savez(tmp_path / "train.npz", x=x, y=y)
    spec = write(tmp_path, AUGMENTED_CNN)
    first = TrainingRun(check_spec(spec), tmp_path / "a", seed=0, device="cpu").fit()
    second = TrainingRun(check_spec(spec), tmp_path / "b", seed=0, device="cpu").fit()
    assert first.history == second.history  # the same seeds, the same augmentations
    assert first.history["loss"][-1] < first.history["loss"][0] and first.test["accuracy"] >= 0.9, first.history
    np.savez(tmp_path / "images.npz", x=x)
    weights = str(first.run_dir / "model.safetensors")
    runs = [CliRunner().invoke(main, ["predict", str(spec), "--weights", weights, "--data", str(tmp_path / "images.npz"),
                                      "--output", str(tmp_path / f"p{i}.npz"), "--device", "cpu"]) for i in range(2)]
    assert all(run.exit_code == 0 for run in runs), runs[0].output
    p0, p1 = (np.load(tmp_path / f"p{i}.npz")["y"] for i in range(2))
    assert np.array_equal(p0, p1)  # inference: no augmentation, the same predictions every time
    assert (p0.argmax(1) == y).mean() == pytest.approx(first.test["accuracy"], abs=1e-6)


PREPROCESSED_CNN = """
name: preprocessed
sequential:
  - {type: Input, shape: [10, 14, 3]}
  - {type: Resizing, height: 12, width: 12, crop_to_aspect_ratio: true}
  - {type: RandomFlip, seed: 0}
  - {type: RandomRotation, factor: 0.1}
  - {type: RandomZoom, height_factor: 0.2}
  - {type: RandomTranslation, height_factor: 0.1, width_factor: 0.1}
  - {type: RandomContrast, factor: 0.2}
  - {type: RandomBrightness, factor: 0.2}
  - {type: RandomCrop, height: 10, width: 10}
  - {type: CenterCrop, height: 8, width: 8}
  - {type: Resizing, height: 9, width: 9, interpolation: nearest}
  - {type: Conv2D, filters: 2, kernel_size: 3}
  - {type: Flatten}
  - {type: Dense, units: 3, activation: softmax}
compile: {optimizer: adam, loss: categorical_crossentropy}
"""


@pytest.mark.parametrize("suffix", [".pt2", ".py", ".onnx"])
def test_exports_carry_resizing_and_crops_and_drop_the_augmentations(tmp_path: Path, suffix: str) -> None:
    """The exported model's outputs on a sample batch are modelspec's in eval mode (the export's own check)."""
    from modelspec.checked import check_spec
    from modelspec.interop.export import export
    from modelspec.torch_build import build_module
    from modelspec.weights import save_weights
    from tests.helpers import write

    if suffix == ".onnx" and importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime is not installed")
    spec = write(tmp_path, PREPROCESSED_CNN)
    torch.manual_seed(0)
    save_weights(build_module(check_spec(spec).graph), tmp_path / "w.safetensors")
    exported = export(spec, tmp_path / "w.safetensors", tmp_path / f"model{suffix}")
    assert exported.path.is_file() and exported.difference is not None and exported.difference <= 1e-5
