"""The data layer: sources in the spec, loading files, shipped digits, synthetic data, checks, validation split."""

from __future__ import annotations

import gzip
import importlib
import sys

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from modelspec.config import StrictModel
from modelspec.data.arrays import ArraySpec
from modelspec.data.checks import check_arrays
from modelspec.data.config import DatasetSource, DataSource, FilesSource, SyntheticSource
from modelspec.data.datasets.digits import load_digits
from modelspec.data.loading import load_source
from modelspec.data.splits import split_validation
from modelspec.errors import DataError

SOURCE = TypeAdapter(DataSource)

MLP = [
    ArraySpec("features", (None, 4), "float32", "input"),
    ArraySpec("label", (None, 3), "float32", "target", label_kind="categorical"),
]
SPARSE = [
    ArraySpec("features", (None, 4), "float32", "input"),
    ArraySpec("label", (None,), "int64", "target", num_classes=3, label_kind="sparse"),
]
TWO_IN_TWO_OUT = [
    ArraySpec("image", (None, 8, 8, 1), "float32", "input"),
    ArraySpec("tokens", (None, 5), "int64", "input", high=20),
    ArraySpec("digit", (None, 10), "float32", "target", label_kind="categorical"),
    ArraySpec("flag", (None, 1), "float32", "target", label_kind="binary"),
]
DIGITS = [
    ArraySpec("pixels", (None, 64), "float32", "input"),
    ArraySpec("digit", (None, 10), "float32", "target", label_kind="categorical"),
]


def source(value):
    return SOURCE.validate_python(value)


def load(value, expected, tmp_path, split="train"):
    return load_source(source(value), expected, tmp_path, split)


def load_checked(value, expected, tmp_path, split="train"):
    return check_arrays(load(value, expected, tmp_path, split), expected, f"data.{split}")


def features(n=10, d=4, seed=0):
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)


def one_hot(ids, classes=3):
    return np.eye(classes, dtype=np.float32)[ids]


def data_error(call, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        call(*args, **kwargs)
    return str(info.value)


# ----- spec forms ------------------------------------------------------------------------------
def test_source_forms_parse_into_their_models():
    assert source("data/train.npz") == "data/train.npz"
    assert isinstance(source({"x": "x.npy", "y": "y.csv"}), FilesSource)
    assert isinstance(source({"x": {"a": "a.npy", "b": "b.npz:key"}, "y": {"c": "c.csv.gz"}}), FilesSource)
    assert source({"dataset": "digits"}) == DatasetSource(dataset="digits")
    assert source({"dataset": "digits", "split": "all"}).split == "all"
    assert source({"synthetic": {"samples": 5, "seed": 3}}).synthetic.samples == 5
    assert isinstance(source({"synthetic": {}}), SyntheticSource)


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("train.npy", "not an .npz file"),
        ({"x": "x.txt"}, "not a data file"),
        ({"x": {"a": "a.json"}}, "not a data file"),
        ({"dataset": "mnist"}, "digits"),
        ({"dataset": "digits", "split": "validation"}, "train"),
        ({"synthetic": {"samplez": 3}}, "Extra inputs"),
        ({"synthetic": {"samples": 0}}, "greater than 0"),
        ({"synthetic": {"samples": "8"}}, "valid integer"),
        ({"x": "x.npy", "z": "z.npy"}, "Extra inputs"),
        (5, "expected an .npz path"),
        ({"x": 3}, "file path or a mapping"),
    ],
)
def test_bad_source_forms_are_validation_errors(value, fragment):
    with pytest.raises(ValidationError) as info:
        source(value)
    assert fragment in str(info.value)


def test_data_source_has_a_json_schema():
    schema = SOURCE.json_schema()
    assert {"DatasetSource", "FilesSource", "SyntheticSource"} <= set(schema["$defs"])


# ----- .npz archives -----------------------------------------------------------------------------
def test_npz_with_x_and_y_feeds_a_single_input_model(tmp_path):
    x, ids = features(), np.arange(10) % 3
    np.savez(tmp_path / "train.npz", x=x, y=one_hot(ids))
    raw = load("train.npz", MLP, tmp_path)
    assert raw.origins == {"features": "train.npz:x", "label": "train.npz:y"}
    arrays = check_arrays(raw, MLP, "data.train")
    np.testing.assert_array_equal(arrays["features"], x)
    np.testing.assert_array_equal(arrays["label"], one_hot(ids))


def test_npz_keyed_by_functional_names(tmp_path):
    n = 6
    np.savez(
        tmp_path / "all.npz",
        image=np.zeros((n, 8, 8, 1), np.float32),
        tokens=np.arange(n * 5).reshape(n, 5) % 20,
        digit=np.arange(n) % 10,  # class ids: one-hot encoded for the categorical target
        flag=np.array([0, 1, 1, 0, 1, 0], np.float32),  # (n,) for an (n, 1) target
    )
    arrays = load_checked("all.npz", TWO_IN_TWO_OUT, tmp_path)
    assert arrays["tokens"].dtype == np.int64
    assert arrays["digit"].shape == (n, 10) and arrays["digit"].dtype == np.float32
    np.testing.assert_array_equal(arrays["digit"].argmax(axis=1), np.arange(n) % 10)
    assert arrays["flag"].shape == (n, 1)


def test_prediction_ignores_targets_in_the_archive(tmp_path):
    np.savez(tmp_path / "test.npz", x=features(), y=one_hot(np.arange(10) % 3))
    inputs = MLP[:1]
    arrays = load_checked("test.npz", inputs, tmp_path, split="test")
    assert list(arrays) == ["features"]


# ----- x / y mappings ----------------------------------------------------------------------------
def test_npy_files_are_memory_mapped_and_stay_so(tmp_path):
    np.save(tmp_path / "x.npy", features())
    np.save(tmp_path / "y.npy", (np.arange(10) % 3).astype(np.int64))
    raw = load({"x": "x.npy", "y": "y.npy"}, SPARSE, tmp_path)
    assert isinstance(raw["features"], np.memmap)
    arrays = check_arrays(raw, SPARSE, "data.train")
    assert isinstance(arrays["features"], np.memmap)  # no conversion needed: still lazy
    assert isinstance(arrays["label"], np.memmap)
    train, val = split_validation(arrays, 0.2)
    assert isinstance(train["features"], np.memmap) and isinstance(val["features"], np.memmap)


def test_named_mapping_with_npz_keys(tmp_path):
    np.savez(tmp_path / "inputs.npz", image=np.zeros((4, 8, 8, 1)), tokens=np.ones((4, 5)))
    np.savez(tmp_path / "targets.npz", a=one_hot(np.arange(4), 10), b=np.ones((4, 1)))
    spec = {
        "x": {"image": "inputs.npz", "tokens": "inputs.npz:tokens"},
        "y": {"digit": "targets.npz:a", "flag": "targets.npz:b"},
    }
    arrays = load_checked(spec, TWO_IN_TWO_OUT, tmp_path)
    assert arrays["image"].dtype == np.float32  # float64 converted
    assert arrays["tokens"].dtype == np.int64  # integral floats converted
    assert set(arrays) == {"image", "tokens", "digit", "flag"}


def test_one_archive_for_several_inputs(tmp_path):
    np.savez(tmp_path / "inputs.npz", image=np.zeros((4, 8, 8, 1)), tokens=np.ones((4, 5), np.int64))
    np.savez(tmp_path / "targets.npz", digit=one_hot(np.arange(4), 10), flag=np.ones((4, 1)))
    arrays = load_checked({"x": "inputs.npz", "y": "targets.npz"}, TWO_IN_TWO_OUT, tmp_path)
    assert set(arrays) == {"image", "tokens", "digit", "flag"}


def test_csv_without_header(tmp_path):
    (tmp_path / "x.csv").write_text("0.5,1,2,3\n4,5,6,7.25\n")
    (tmp_path / "y.csv").write_text("2\n0\n")
    arrays = load_checked({"x": "x.csv", "y": "y.csv"}, SPARSE, tmp_path)
    np.testing.assert_array_equal(arrays["features"], [[0.5, 1, 2, 3], [4, 5, 6, 7.25]])
    assert arrays["features"].dtype == np.float32
    np.testing.assert_array_equal(arrays["label"], [2, 0])  # (n, 1) column for an (n,) target
    assert arrays["label"].dtype == np.int64


def test_csv_with_header_and_gzip(tmp_path):
    (tmp_path / "x.csv").write_text("a,b,c,d\n1,2,3,4\n\n5,6,7,8\n")
    with gzip.open(tmp_path / "y.csv.gz", "wt") as handle:
        handle.write("label\n1\n2\n")
    arrays = load_checked({"x": "x.csv", "y": "y.csv.gz"}, SPARSE, tmp_path)
    assert arrays["features"].shape == (2, 4)
    np.testing.assert_array_equal(arrays["label"], [1, 2])


def test_relative_and_absolute_paths(tmp_path):
    (tmp_path / "sub").mkdir()
    np.save(tmp_path / "sub" / "x.npy", features())
    np.save(tmp_path / "y.npy", np.arange(10) % 3)
    spec = {"x": "sub/x.npy", "y": str(tmp_path / "y.npy")}
    arrays = load_checked(spec, SPARSE, tmp_path)
    assert arrays["features"].shape == (10, 4)


# ----- digits ------------------------------------------------------------------------------------
def test_digits_splits():
    images, labels = load_digits("all")
    assert images.shape == (1797, 64) and labels.shape == (1797,)
    assert images.dtype == np.float32 and labels.dtype == np.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(np.unique(images * 16)) <= set(range(17))
    train_x, train_y = load_digits("train")
    test_x, test_y = load_digits("test")
    assert len(train_x) == 1437 and len(test_x) == 360  # int(1797 * 0.8) = 1437
    np.testing.assert_array_equal(np.concatenate([train_x, test_x]), images)
    for part in (labels, train_y, test_y):
        assert set(np.unique(part)) == set(range(10))


def test_digits_is_deterministic_and_read_only():
    first = load_digits("test")
    second = load_digits("test")
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    with pytest.raises(ValueError):
        first[0][0, 0] = 1.0  # the cached arrays are read-only


@pytest.mark.parametrize("split, expected_rows", [("train", 1437), ("test", 360), ("validation", 360)])
def test_digits_source_one_hot_labels(tmp_path, split, expected_rows):
    arrays = load_checked({"dataset": "digits"}, DIGITS, tmp_path, split=split)
    assert arrays["pixels"].shape == (expected_rows, 64)
    assert arrays["digit"].shape == (expected_rows, 10)
    np.testing.assert_array_equal(arrays["digit"].sum(axis=1), 1.0)


def test_digits_source_sparse_labels_and_image_shape(tmp_path):
    expected = [
        ArraySpec("image", (None, 8, 8, 1), "float32", "input"),
        ArraySpec("digit", (None,), "int64", "target", num_classes=10, label_kind="sparse"),
    ]
    arrays = load_checked({"dataset": "digits", "split": "all"}, expected, tmp_path)
    assert arrays["image"].shape == (1797, 8, 8, 1)
    assert arrays["digit"].shape == (1797,) and arrays["digit"].dtype == np.int64


def test_digits_source_needs_one_input_and_one_target(tmp_path):
    message = data_error(load, {"dataset": "digits"}, TWO_IN_TWO_OUT, tmp_path)
    assert "one input (64 pixels)" in message and "'tokens'" in message


# ----- synthetic -----------------------------------------------------------------------------------
def test_synthetic_arrays_fit_the_model(tmp_path):
    expected = TWO_IN_TWO_OUT + [
        ArraySpec("sequence", (None, None, 3), "float32", "input"),
        ArraySpec("mask", (None, 2), "bool", "input"),
        ArraySpec("cls", (None,), "int32", "target", num_classes=4, label_kind="sparse"),
        ArraySpec("value", (None, 2), "float32", "target"),
    ]
    raw = load({"synthetic": {"samples": 12, "seed": 1}}, expected, tmp_path)
    arrays = check_arrays(raw, expected, "data.train")  # valid as generated
    for spec in expected:
        assert arrays[spec.name].dtype == np.dtype(spec.dtype)
        assert arrays[spec.name].shape[0] == 12
    assert arrays["sequence"].shape == (12, 8, 3)
    assert 0 <= arrays["tokens"].min() and arrays["tokens"].max() < 20
    np.testing.assert_array_equal(arrays["digit"].sum(axis=1), 1.0)
    assert set(np.unique(arrays["flag"])) <= {0.0, 1.0}
    assert arrays["cls"].min() >= 0 and arrays["cls"].max() < 4
    assert 0.0 <= arrays["value"].min() and arrays["value"].max() < 1.0


def test_synthetic_is_deterministic_per_seed_and_split(tmp_path):
    spec = {"synthetic": {"samples": 8, "seed": 3}}
    a = load(spec, MLP, tmp_path)["features"]
    np.testing.assert_array_equal(a, load(spec, MLP, tmp_path)["features"])
    assert not np.array_equal(a, load(spec, MLP, tmp_path, split="validation")["features"])
    assert not np.array_equal(a, load({"synthetic": {"samples": 8, "seed": 4}}, MLP, tmp_path)["features"])


# ----- check_arrays: each problem ----------------------------------------------------------------
def test_missing_array_lists_available_names_with_suggestion(tmp_path):
    np.savez(tmp_path / "d.npz", featurs=features(), label=one_hot(np.arange(10) % 3))
    expected = [ArraySpec("features", (None, 4)), ArraySpec("label", (None, 3), role="target", label_kind="categorical"), ArraySpec("extra_in", (None, 2))]
    message = data_error(lambda: check_arrays(load("d.npz", expected, tmp_path), expected, "data.train"))
    assert "missing array 'features'" in message and "(None, 4)" in message
    assert "'featurs', 'label'" in message and "did you mean 'featurs'?" in message
    assert "unexpected array 'featurs' (from d.npz:featurs)" in message and "did you mean 'features'?" in message
    assert "missing array 'extra_in'" in message


def test_extra_array_is_an_error():
    arrays = {"features": features(), "label": one_hot(np.arange(10) % 3), "lable": np.zeros(10)}
    message = data_error(check_arrays, arrays, MLP, "data.train")
    assert "unexpected array 'lable'" in message and "'features', 'label'" in message


def test_wrong_shape_names_array_file_and_both_shapes(tmp_path):
    np.save(tmp_path / "x.npy", features(10, 5))
    np.save(tmp_path / "y.npy", one_hot(np.arange(10) % 3))
    message = data_error(load_checked, {"x": "x.npy", "y": "y.npy"}, MLP, tmp_path)
    assert message == "data.train: array 'features' (from x.npy) has shape (10, 5); the model's input 'features' expects (None, 4)"


def test_wrong_rank_and_reshape_hint():
    arrays = {"features": np.zeros((10, 2, 2), np.float32), "label": one_hot(np.arange(10) % 3)}
    message = data_error(check_arrays, arrays, MLP, "data.validation")
    assert "data.validation: array 'features' has shape (10, 2, 2) (3 dimensions)" in message
    assert "expects (None, 4) (2 dimensions)" in message and "reshape it to (None, 4)" in message


def test_one_hot_labels_for_a_sparse_loss_get_a_hint():
    arrays = {"features": features(), "label": one_hot(np.arange(10) % 3)}
    message = data_error(check_arrays, arrays, SPARSE, "data.train")
    assert "has shape (10, 3)" in message and "(None,)" in message and "look one-hot" in message


def test_float_values_for_an_integer_input():
    expected = [ArraySpec("tokens", (None, 3), "int64", high=100)]
    arrays = {"tokens": np.array([[1, 2, 3], [4, 5.5, 6]])}
    message = data_error(check_arrays, arrays, expected, "data.train")
    assert "array 'tokens' has dtype float64 with 1 non-integer value(s), the first 5.5 at index (1, 1)" in message
    assert "takes integers (int64)" in message


def test_integer_input_beyond_the_embedding_size():
    expected = [ArraySpec("tokens", (None, 3), "int64", high=10)]
    message = data_error(check_arrays, {"tokens": np.array([[1, 2, 3], [4, 10, -1]])}, expected, "data.train")
    assert "2 values outside [0, 10) (input_dim 10), the first 10 at index (1, 1)" in message


def test_non_numeric_dtype():
    message = data_error(check_arrays, {"features": np.array([["a"] * 4] * 2)}, MLP[:1], "data.test")
    assert "dtype <U1, which is not numeric" in message


def test_nan_and_inf_are_counted_with_the_first_index():
    x = features()
    x[3, 1] = np.nan
    x[5, 0] = np.nan
    x[7, 2] = np.inf
    message = data_error(check_arrays, {"features": x, "label": one_hot(np.arange(10) % 3)}, MLP, "data.train")
    assert "array 'features' has 2 NaN and 1 infinite value(s), the first at index (3, 1)" in message


def test_unequal_lengths_are_listed():
    arrays = {"features": features(10), "label": one_hot(np.arange(8) % 3)}
    message = data_error(check_arrays, arrays, MLP, "data.train")
    assert "different numbers of samples: 'features' 10, 'label' 8" in message


def test_sparse_labels_out_of_range():
    arrays = {"features": features(4), "label": np.array([0, 3, -1, 2])}
    message = data_error(check_arrays, arrays, SPARSE, "data.train")
    assert "array 'label' has 2 class ids outside [0, 3) for a sparse target, the first 3 at index 1" in message


def test_class_ids_for_categorical_target_out_of_range():
    arrays = {"features": features(4), "label": np.array([0, 1, 2, 3])}
    message = data_error(check_arrays, arrays, MLP, "data.train")
    assert "1 class ids outside [0, 3) for a categorical target, the first 3 at index 3" in message


def test_binary_targets_outside_zero_one():
    expected = [ArraySpec("features", (None, 4)), ArraySpec("flag", (None, 1), role="target", label_kind="binary")]
    arrays = {"features": features(3), "flag": np.array([[0.0], [1.0], [2.0]])}
    message = data_error(check_arrays, arrays, expected, "data.train")
    assert "array 'flag' has 1 values outside [0, 1] for a binary target, the first 2.0 at index (2, 0)" in message


def test_categorical_rows_outside_zero_one():
    labels = one_hot(np.arange(4) % 3)
    labels[2, 0] = -0.5
    message = data_error(check_arrays, {"features": features(4), "label": labels}, MLP, "data.train")
    assert "values outside [0, 1] for a categorical target, the first -0.5 at index (2, 0)" in message


def test_fixed_batch_size_needs_a_multiple():
    expected = [ArraySpec("seq", (4, 3), "float32", "input")]
    message = data_error(check_arrays, {"seq": np.zeros((10, 3), np.float32)}, expected, "data.train")
    assert "10 samples is not a multiple of the model's fixed batch size 4" in message and "8 or 12" in message
    assert check_arrays({"seq": np.zeros((12, 3), np.float32)}, expected, "data.train")["seq"].shape == (12, 3)


def test_empty_data_is_an_error():
    message = data_error(check_arrays, {"features": np.zeros((0, 4), np.float32)}, MLP[:1], "data.train")
    assert "no samples" in message


def test_every_problem_is_reported_at_once():
    arrays = {"features": features(10, 5), "label": np.array([0, 1, 5] + [0] * 6), "other": np.zeros(10)}
    message = data_error(check_arrays, arrays, SPARSE, "data.train")
    lines = message.splitlines()
    assert len(lines) == 4, message  # extra array, shape, label range, lengths
    assert all(line.startswith("data.train: ") for line in lines)


# ----- files that cannot be read -----------------------------------------------------------------
def test_missing_files_are_all_reported(tmp_path):
    message = data_error(load, {"x": "nope.npy", "y": "gone.csv"}, SPARSE, tmp_path)
    assert "cannot read 'nope.npy': not found" in message and "cannot read 'gone.csv': not found" in message
    assert "data.train: cannot read 'nope.npy'" in message
    assert "not found" in data_error(load, "absent.npz", SPARSE, tmp_path)


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "d.npy").mkdir()
    assert "is a directory" in data_error(load, {"x": "d.npy"}, SPARSE, tmp_path)


def test_truncated_npy(tmp_path):
    np.save(tmp_path / "x.npy", np.arange(1000.0))
    data = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "short.npy").write_bytes(data[:500])
    (tmp_path / "header.npy").write_bytes(data[:20])
    assert "'short.npy'" in (message := data_error(load, {"x": "short.npy"}, SPARSE, tmp_path)) and "truncated" in message
    assert "'header.npy'" in data_error(load, {"x": "header.npy"}, SPARSE, tmp_path)


def test_garbage_and_pickled_npy(tmp_path):
    (tmp_path / "junk.npy").write_bytes(b"this is not numpy at all")
    np.save(tmp_path / "objects.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    assert "not a NumPy file" in data_error(load, {"x": "junk.npy"}, SPARSE, tmp_path)
    assert "'objects.npy'" in data_error(load, {"x": "objects.npy"}, SPARSE, tmp_path)


def test_truncated_and_corrupt_npz(tmp_path):
    np.savez(tmp_path / "good.npz", x=np.arange(100000.0), y=np.arange(10))
    data = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "short.npz").write_bytes(data[: len(data) // 2])
    corrupt = bytearray(data)
    corrupt[2000:2100] = b"\0" * 100
    (tmp_path / "bad.npz").write_bytes(bytes(corrupt))
    message = data_error(load, "short.npz", SPARSE, tmp_path)
    assert "'short.npz'" in message and "corrupt or truncated" in message
    message = data_error(load, "bad.npz", SPARSE, tmp_path)
    assert "array 'x' of 'bad.npz'" in message and "corrupt or truncated" in message


def test_npz_key_problems(tmp_path):
    np.savez(tmp_path / "two.npz", first=np.zeros(3), second=np.zeros(3))
    message = data_error(load, {"x": "two.npz:frist"}, SPARSE, tmp_path)
    assert "'two.npz' has no array 'frist'" in message and "did you mean 'first'?" in message
    message = data_error(load, {"x": "two.npz"}, SPARSE, tmp_path)
    assert "'two.npz' holds 2 arrays and none is named 'features': pick one as 'two.npz:key'" in message
    np.save(tmp_path / "plain.npz", np.zeros(3))  # np.save appends .npy
    (tmp_path / "plain.npz").write_bytes((tmp_path / "plain.npz.npy").read_bytes())
    assert "single .npy array" in data_error(load, "plain.npz", SPARSE, tmp_path)


def test_one_file_for_several_inputs_is_an_error(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((3, 4)))
    message = data_error(load, {"x": "x.npy"}, TWO_IN_TWO_OUT, tmp_path)
    assert "one file 'x.npy' for 2 inputs ('image', 'tokens')" in message


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "the file is empty"),
        ("a,b\n", "header row and no data"),
        ("1,2\n3,x\n", "line 2, column 2: 'x' is not a number"),
        ("a,b\n1,2\n3,\n", "line 3, column 2: an empty cell"),
        ("1,2\n3\n", "line 2 has 1 columns, the rows before it 2"),
    ],
)
def test_bad_csv(tmp_path, text, fragment):
    (tmp_path / "x.csv").write_text(text)
    message = data_error(load, {"x": "x.csv"}, SPARSE, tmp_path)
    assert "cannot read 'x.csv' as a numeric CSV" in message and fragment in message


def test_corrupt_gzip_csv(tmp_path):
    (tmp_path / "x.csv.gz").write_bytes(gzip.compress(b"1,2\n3,4\n" * 100)[:30])
    assert "'x.csv.gz'" in data_error(load, {"x": "x.csv.gz"}, SPARSE, tmp_path)


# ----- validation split ----------------------------------------------------------------------------
def test_validation_split_takes_the_last_samples():
    arrays = {"features": np.arange(10).reshape(10, 1), "label": np.arange(10)}
    train, val = split_validation(arrays, 0.25)  # floor(10 * 0.75) = 7
    np.testing.assert_array_equal(train["label"], np.arange(7))
    np.testing.assert_array_equal(val["label"], [7, 8, 9])
    np.testing.assert_array_equal(val["features"][:, 0], [7, 8, 9])


def test_validation_split_too_few_samples():
    assert "too few" in data_error(split_validation, {"a": np.zeros(1)}, 0.5)
    with pytest.raises(ValueError):
        split_validation({"a": np.zeros(4)}, 1.0)


# ----- ArraySpec ----------------------------------------------------------------------------------
def test_array_spec_defaults_and_checks():
    assert ArraySpec("y", (None, 7), role="target", label_kind="categorical").num_classes == 7
    assert ArraySpec("x", [None, 3]).shape_text == "(None, 3)"
    for bad in (
        {"name": "x", "shape": ()},
        {"name": "x", "shape": (None,), "dtype": "float64"},
        {"name": "x", "shape": (None,), "label_kind": "sparse"},
        {"name": "y", "shape": (None,), "role": "target", "label_kind": "sparse"},
    ):
        with pytest.raises(ValueError):
            ArraySpec(**bad)


def test_data_modules_do_not_import_torch_and_the_config_not_numpy():
    import subprocess

    code = (
        "import sys, modelspec.data.config; assert 'numpy' not in sys.modules and 'torch' not in sys.modules\n"
        "import modelspec.data.checks, modelspec.data.loading, modelspec.data.reader, modelspec.data.splits, modelspec.data.memmap\n"
        "import importlib; [importlib.import_module(k.reader.partition(':')[0]) for k in modelspec.data.config.SOURCES.values()]\n"
        "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_registered_source_has_a_reader_and_a_form_in_the_message():
    from modelspec.data.config import SOURCES

    for kind in SOURCES.values():
        module, _, name = kind.reader.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), kind.reader
    with pytest.raises(ValidationError) as error:
        SOURCE.validate_python(5)
    assert error.value.errors()[0]["msg"] == "expected an .npz path, {x: ..., y: ...}, {dataset: digits}, {table: FILE.csv} or {synthetic: {samples: N}}"
    with pytest.raises(TypeError, match="not a DataSource"):
        load_source({"dataset": "digits"}, MLP, ".", split="train")


class ConstantSource(StrictModel):
    """A source added in one place: `{constant: 0.5}` fills every array with that value."""

    constant: float


def read_constant(reader, source):
    for spec in reader.inputs + reader.targets:
        reader.add(spec.name, np.full((4, *spec.shape[1:]), source.constant, dtype=spec.dtype), "a constant")


def test_a_new_source_is_one_registration(monkeypatch, tmp_path):
    from modelspec.data import config

    monkeypatch.setattr(config, "SOURCES", dict(config.SOURCES))
    config.data_source(form="{constant: X}", key="constant", reader=f"{__name__}:read_constant")(ConstantSource)
    adapter = TypeAdapter(config.source_union())
    source = adapter.validate_python({"constant": 0.5})
    assert source == ConstantSource(constant=0.5)
    assert adapter.validate_python({"dataset": "digits"}) == DatasetSource(dataset="digits")
    with pytest.raises(ValidationError, match=r"\{synthetic: \{samples: N\}\} or \{constant: X\}"):
        adapter.validate_python(5)
    arrays = load_source(source, MLP[:1], tmp_path, split="train")
    assert arrays["features"].shape == (4, 4) and float(arrays["features"][0, 0]) == 0.5
    with pytest.raises(ValueError, match="already registered"):
        config.data_source(form="{constant: X}", key="constant", reader=f"{__name__}:read_constant")(ConstantSource)


def test_prediction_suggests_a_misspelled_input_without_flagging_targets(tmp_path):
    np.savez(tmp_path / "p.npz", featurs=features(), label=one_hot(np.arange(10) % 3))
    inputs = [ArraySpec("features", (None, 4)), ArraySpec("meta", (None, 2))]
    message = data_error(load_checked, "p.npz", inputs, tmp_path, split="test")
    assert "missing array 'features'" in message and "did you mean 'featurs'?" in message
    assert "unexpected" not in message


def test_integers_too_large_for_the_dtype():
    expected = [ArraySpec("tokens", (None, 2), "int32")]
    message = data_error(check_arrays, {"tokens": np.array([[1, 2**40]])}, expected, "data.train")
    assert "1 int32 values outside [-2147483648, 2147483648), the first 1099511627776 at index (0, 1)" in message
