"""`data: {train: {table: FILE}}` and `data.columns` (issue 18): tables in every format read against an
independent reader (Python's csv module), the column mapping, every bad table (a clear error naming the
file, column and row; exit 2 and nothing written), sizes refused before reading, and the income example
trained and predicted from its raw CSV files."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from pydantic import TypeAdapter, ValidationError

from modelspec.data.arrays import ArraySpec
from modelspec.data.checks import check_arrays
from modelspec.data.config import DataColumns, DataSource, TableSource, column_problems, file_source, table_format
from modelspec.data.loading import load_source
from modelspec.errors import DataError
from modelspec.resources import ResourceError
from tests.helpers import SPECS, write

SOURCE = TypeAdapter(DataSource)
HEADER = ["age", "workclass", "hours-per-week", "education_years", "income"]
ROWS = [
    [39, "State-gov", 40, 13, 0],
    [50, "Self-emp, inc", 13, 13, 1],  # a quoted cell holding the delimiter
    [38, 'Private "A"', 40, 9, 0],  # a quoted cell holding quotes
    [53, "Private", 40, 7, 1],
]
NUMERIC = ArraySpec("numeric", (None, 3), "float32", "input")
INCOME = ArraySpec("income", (None, 1), "float32", "target", label_kind="binary")
COLUMNS = {"numeric": ["age", "hours-per-week", "education_years"]}


def cli(*args: str):
    from modelspec_cli.main import main

    return CliRunner().invoke(main, list(args))


def write_csv(path, header=HEADER, rows=ROWS, delimiter=","):
    """The table as Python's csv module writes it (every text cell quoted, as spreadsheets do)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def reference(path, columns, delimiter=","):
    """The columns' values read by Python's csv module: the independent reader."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter=delimiter))
    return np.array([[float(row[c]) for c in columns] for row in rows])


def arrow_table(header=HEADER, rows=ROWS):
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(header)})


def write_table(path):
    """The table in the format its name says (text formats through csv / json, columnar through pyarrow)."""
    fmt, compressed = table_format(path.name)
    if fmt in ("csv", "tsv"):
        return write_csv(path, delimiter="\t" if fmt == "tsv" else ",")
    if fmt == "jsonl":
        opener = gzip.open if compressed else open
        with opener(path, "wt", encoding="utf-8") as handle:
            handle.writelines(json.dumps(dict(zip(HEADER, row))) + "\n" for row in ROWS)
        return path
    if fmt == "parquet":
        pq.write_table(arrow_table(), path)
    else:
        with pa.ipc.new_file(str(path), arrow_table().schema) as writer:
            writer.write_table(arrow_table())
    return path


def table(path, columns=None) -> TableSource:
    return SOURCE.validate_python({"table": str(path)}).with_columns(columns)


def load(path, expected, columns=COLUMNS, split="train", **kwargs):
    return load_source(table(path, columns), expected, path.parent, split, **kwargs)


def load_checked(path, expected, columns=COLUMNS):
    return check_arrays(load(path, expected, columns), expected, "data.train")


def data_error(path, expected, columns=COLUMNS) -> str:
    with pytest.raises(DataError) as error:
        load_checked(path, expected, columns)
    return str(error.value)


# ----- reading -----------------------------------------------------------------------------------
def test_a_csv_with_quoted_cells_matches_pythons_csv_module(tmp_path):
    path = write_csv(tmp_path / "train.csv")
    arrays = load_checked(path, [NUMERIC, INCOME])
    assert arrays["numeric"].dtype == np.float32 and arrays["numeric"].shape == (4, 3)
    np.testing.assert_array_equal(arrays["numeric"], reference(path, COLUMNS["numeric"]))  # the listed order
    np.testing.assert_array_equal(arrays["income"], reference(path, ["income"]))  # the column of its own name
    assert arrays.origins["numeric"] == f"{path} columns 'age', 'hours-per-week', 'education_years'"


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.tsv", "t.tsv.gz", "t.jsonl", "t.jsonl.gz", "t.parquet", "t.arrow", "t.feather"])
def test_every_format_reads_the_same_arrays(tmp_path, name):
    path = write_table(tmp_path / name)
    arrays = load_checked(path, [NUMERIC, INCOME])
    expected = np.array([[row[0], row[2], row[3]] for row in ROWS], dtype=np.float32)
    np.testing.assert_array_equal(arrays["numeric"], expected)
    np.testing.assert_array_equal(arrays["income"], np.array([[row[4]] for row in ROWS], dtype=np.float32))


def test_parquet_is_read_a_row_group_at_a_time_in_order(tmp_path):
    rng = np.random.default_rng(0)
    values = {"a": rng.random(1000), "b": rng.integers(0, 9, 1000), "c": rng.random(1000).astype(np.float32)}
    pq.write_table(pa.table(values), tmp_path / "t.parquet", row_group_size=97)
    assert pq.ParquetFile(tmp_path / "t.parquet").metadata.num_row_groups == 11
    arrays = load(tmp_path / "t.parquet", [ArraySpec("x", (None, 3))], columns={"x": ["c", "a", "b"]})
    np.testing.assert_array_equal(arrays["x"], np.stack([values["c"], values["a"], values["b"]], axis=1).astype(np.float32))


def test_a_column_feeds_an_input_of_its_shape_and_class_ids_are_one_hot_encoded(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["p0", "p1", "p2", "p3", "digit"], [[1, 2, 3, 4, 2], [5, 6, 7, 8, 0]])
    expected = [ArraySpec("image", (None, 2, 2, 1)), ArraySpec("digit", (None, 3), "float32", "target", label_kind="categorical")]
    arrays = load_checked(path, expected, {"image": ["p0", "p1", "p2", "p3"]})
    np.testing.assert_array_equal(arrays["image"][:, :, :, 0], [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    np.testing.assert_array_equal(arrays["digit"], [[0, 0, 1], [1, 0, 0]])


def test_integer_columns_keep_their_values_for_integer_inputs(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["w0", "w1", "flag"], [[2**40, 3, True], [7, 8, False]])
    arrays = load(path, [ArraySpec("tokens", (None, 2), "int64"), ArraySpec("flag", (None, 1), "bool")], columns={"tokens": ["w0", "w1"]})
    assert arrays["tokens"].dtype == np.int64 and arrays["tokens"][0, 0] == 2**40  # not through float32
    assert arrays["flag"].dtype == np.bool_


def test_a_float_column_for_an_integer_input_is_checked_for_integers(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["w0", "w1"], [[1, 2.5], [3, 4]])
    message = data_error(path, [ArraySpec("tokens", (None, 2), "int64", high=10)], {"tokens": ["w0", "w1"]})
    assert "1 non-integer value(s), the first 2.5 at index (0, 1)" in message


def test_extra_columns_are_never_converted(tmp_path):
    path = write_csv(tmp_path / "t.csv", [*HEADER, "notes"], [[*row, "text, quoted"] for row in ROWS])
    assert set(load(path, [NUMERIC, INCOME])) == {"numeric", "income"}


# ----- bad tables ----------------------------------------------------------------------------------
def test_a_missing_column_is_named_with_a_did_you_mean_and_the_header(tmp_path):
    path = write_csv(tmp_path / "t.csv")
    message = data_error(path, [NUMERIC, INCOME], {"numeric": ["age", "hours_per_week", "education_years"]})
    assert f"data.train: '{path}' has no column 'hours_per_week' for input 'numeric' (listed in data.columns.numeric)" in message
    assert "(did you mean 'hours-per-week'?)" in message and "its columns: 'age', 'education_years'" in message
    message = data_error(path, [NUMERIC, ArraySpec("incme", (None, 1), "float32", "target", label_kind="binary")])
    assert "no column 'incme' for output 'incme' (the column of its name: data.columns.incme can name another) (did you mean 'income'?)" in message


def test_every_missing_column_is_reported_at_once(tmp_path):
    path = write_csv(tmp_path / "t.csv")
    message = data_error(path, [NUMERIC, INCOME], {"numeric": ["agee", "hours-per-week", "years"], "income": "incom"})
    assert message.count("has no column") == 3


def test_a_text_cell_where_a_number_is_wanted_names_the_column_row_and_value(tmp_path):
    rows = [list(row) for row in ROWS]
    rows[2][2] = "forty"
    path = write_csv(tmp_path / "t.csv", rows=rows)
    message = data_error(path, [NUMERIC, INCOME])
    assert (f"'{path}' column 'hours-per-week' (for input 'numeric') holds text where numbers are wanted: 'forty' at data row 3 "
            "(1-based, the header not counted; 1 of 4 rows are not numbers); expected a number (float32)") in message


def test_a_string_column_is_refused_until_vocabularies_exist(tmp_path):
    path = write_csv(tmp_path / "t.csv")
    message = data_error(path, [NUMERIC, INCOME], {"numeric": ["age", "workclass", "education_years"]})
    assert "column 'workclass' (for input 'numeric') holds text where numbers are wanted: 'State-gov' at data row 1" in message
    assert "a string column needs a vocabulary (an input with dtype: string and a StringLookup layer), which modelspec cannot do yet" in message
    message = data_error(path, [NUMERIC, ArraySpec("label", (None, 1), "float32", "target", label_kind="binary")],
                         {**COLUMNS, "label": "workclass"})
    assert "for output 'label'" in message and "a string target column is encoded through a vocabulary" in message


def test_an_empty_cell_names_its_row(tmp_path):
    (tmp_path / "t.csv").write_text("age,hours-per-week,education_years,income\n1,2,3,0\n4,,6,1\n7,8,9,0\n")
    message = data_error(tmp_path / "t.csv", [NUMERIC, INCOME])
    assert "column 'hours-per-week' (for input 'numeric') has an empty cell at data row 2 (1-based, the header not counted" in message
    (tmp_path / "e.csv").write_text("age,hours-per-week,education_years,income\n1,,3,0\n4,,6,1\n")
    assert "column 'hours-per-week' (for input 'numeric') is empty in every row: expected numbers" in data_error(tmp_path / "e.csv", [NUMERIC, INCOME])


def test_an_empty_cell_in_a_later_parquet_row_group_names_its_row(tmp_path):
    pq.write_table(pa.table({"a": [1.0, 2.0, 3.0, None, 5.0]}), tmp_path / "t.parquet", row_group_size=2)
    message = data_error(tmp_path / "t.parquet", [ArraySpec("a", (None, 1))])
    assert "column 'a' (for input 'a') has an empty cell at data row 4" in message


@pytest.mark.parametrize("text, phrase", [
    ("", "is empty: expected a header row naming the columns, then the data rows"),
    ("age,hours-per-week,education_years,income\n", "has no data rows (only a header)"),
    ("age,hours-per-week,education_years,income\n1,2,3,0\n4,5,6\n7,8,9,1\n",
     "data row 2 (1-based, the header not counted) has 3 cell(s), but the header names 4 column(s): '4,5,6'"),
    ("age;hours-per-week;education_years;income\n1;2;3;0\n", "(the header is one column: is the file separated by ';'? a .csv is separated by commas)"),
    ("age,age,hours-per-week,education_years,income\n1,1,2,3,0\n", "has 2 columns named 'age' (for input 'numeric'): rename one"),
])
def test_bad_csv_files_are_clear_errors(tmp_path, text, phrase):
    (tmp_path / "t.csv").write_text(text)
    message = data_error(tmp_path / "t.csv", [NUMERIC, INCOME])
    assert phrase in message and message.startswith(f"data.train: '{tmp_path / 't.csv'}' ")


def test_a_ragged_row_is_found_beyond_the_first_block(tmp_path):
    lines = ["a,b"] + ["1,2"] * 200_000 + ["3"] + ["4,5"] * 10
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    message = data_error(tmp_path / "t.csv", [ArraySpec("x", (None, 2))], {"x": ["a", "b"]})
    assert "data row 200,001 (1-based, the header not counted) has 1 cell(s), but the header names 2 column(s): '3'" in message


@pytest.mark.parametrize("name, content, phrase", [
    ("t.parquet", b"not parquet", "as a Parquet file"),
    ("t.arrow", b"not arrow", "as an Arrow IPC (Feather v2) file"),
    ("t.csv.gz", b"not gzip", "gzip"),
    ("t.jsonl", b'{"a": 1}\n{"a": \n', "as JSON lines"),
])
def test_unreadable_files_are_named(tmp_path, name, content, phrase):
    (tmp_path / name).write_bytes(content)
    message = data_error(tmp_path / name, [ArraySpec("a", (None, 1))])
    assert phrase in message and name in message


def test_a_missing_file_is_named(tmp_path):
    message = data_error(tmp_path / "nope.csv", [NUMERIC])
    assert f"cannot read '{tmp_path / 'nope.csv'}': " in message


def test_an_input_reading_too_few_columns_says_how_many_it_needs(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["numeric", "income"], [[1, 0]])
    message = data_error(path, [NUMERIC, INCOME], None)
    assert "input 'numeric' has shape (None, 3), 3 value(s) a row, but reads 1 column(s)" in message
    assert "list 3 columns for it in data.columns, e.g. data.columns: {numeric: [column_1, column_2, column_3]}" in message


# ----- sizes before reads --------------------------------------------------------------------------
def small_memory(monkeypatch, available: int) -> None:
    monkeypatch.setattr("modelspec.resources.available_memory", lambda: available)


def test_a_text_table_larger_than_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "t.csv", rows=ROWS * 100)
    small_memory(monkeypatch, 1000)
    with pytest.raises(ResourceError, match=r"^data.train: '.*t.csv' holds 9.44 KB of text, read whole: more than the 1000 B of memory available here"):
        load(path, [NUMERIC, INCOME])
    assert load(path, [NUMERIC, INCOME], force=True)["numeric"].shape == (400, 3)


def test_a_compressed_table_is_counted_as_it_decompresses(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "t.csv.gz", rows=ROWS * 1000)
    assert path.stat().st_size < 2000  # small on disk, 100 KB of text
    small_memory(monkeypatch, 50_000)
    with pytest.raises(ResourceError, match="holds more than .* of text, read whole"):
        load(path, [NUMERIC, INCOME])


def test_a_parquet_file_is_sized_from_its_metadata(tmp_path, monkeypatch):
    pq.write_table(pa.table({"a": np.arange(100_000, dtype=np.float64), "b": np.zeros(100_000)}), tmp_path / "t.parquet")
    small_memory(monkeypatch, 200_000)
    with pytest.raises(ResourceError, match="a row group of .*t.parquet' \\(uncompressed\\) would take about"):
        load(tmp_path / "t.parquet", [ArraySpec("a", (None, 1))])
    small_memory(monkeypatch, 2_000_000)  # the row group (980 KB: a dictionary and its indices) and the (100000, 1) float32 array fit
    assert load(tmp_path / "t.parquet", [ArraySpec("a", (None, 1))])["a"].shape == (100_000, 1)


def test_the_arrays_are_sized_before_they_are_made(tmp_path, monkeypatch):
    arrow = pa.table({f"c{i}": np.zeros(50_000) for i in range(4)})
    with pa.ipc.new_file(str(tmp_path / "t.arrow"), arrow.schema) as writer:
        writer.write_table(arrow)
    small_memory(monkeypatch, 500_000)
    with pytest.raises(ResourceError, match=r"input 'x' \(50,000 rows x 4 column\(s\) of .*t.arrow', float32\) would take about 781.25 KB"):
        load(tmp_path / "t.arrow", [ArraySpec("x", (None, 4))], columns={"x": ["c0", "c1", "c2", "c3"]})


# ----- the spec: data.columns and {table: ...} -------------------------------------------------------
def test_table_names_are_checked_when_the_spec_is_validated():
    with pytest.raises(ValidationError, match=r"'train.txt' is not a table file: expected a name ending in .csv, .tsv, .jsonl"):
        SOURCE.validate_python({"table": "train.txt"})
    with pytest.raises(ValidationError):
        SOURCE.validate_python({"table": "train.parquet.gz"})
    assert file_source("a.tsv.gz") == TableSource(table="a.tsv.gz") and file_source("a.npz") == "a.npz" and file_source("a.txt") is None


def test_data_columns_reaches_every_table_split(tmp_path):
    from modelspec.checked import check_spec

    spec = write(tmp_path, TABLE_SPEC)
    data = check_spec(spec).spec.data
    for split in (data.train, data.validation, data.test):
        assert split.columns_of("numeric") == ["age", "hours-per-week", "education_years"] and split.columns_of("income") == ["income"]


@pytest.mark.parametrize("columns, phrase", [
    ("{numeric: 3}", "data.columns.numeric"),
    ("{numeric: []}", "data.columns.numeric"),
    ("{numeric: ['']}", "data.columns.numeric"),
    ("{1numeric: [a]}", "data.columns"),
])
def test_data_columns_values_are_checked(tmp_path, columns, phrase):
    from modelspec.checked import check_spec
    from modelspec.errors import SpecError

    with pytest.raises(SpecError, match=phrase):
        check_spec(write(tmp_path, TABLE_SPEC.replace("{numeric: [age, hours-per-week, education_years]}", columns)))


def test_column_problems_name_unknown_entries_and_wrong_widths():
    columns = TypeAdapter(DataColumns).validate_python({"numric": ["a"], "numeric": ["a", "b"], "income": "y"})
    found = column_problems(columns, {"numeric": (None, 3)}, {"income": (None, 2)})
    assert found == [
        ("data.columns: 'numric' is not an input or output of the model (it has 'income', 'numeric') (did you mean 'numeric'?)", ("numric",)),
        (("data.columns: input 'numeric' has shape (None, 3), 3 value(s) a row, but 2 column(s) are listed: list 3 columns, stacked in order "
         "as its feature vector"), ("numeric",)),
    ]  # one column for a 2-unit output: its class ids


def test_validate_and_summary_never_import_pyarrow(tmp_path):
    code = ("import sys; from modelspec.checked import check_spec; from modelspec.summary import summary_rows; "
            f"summary_rows(check_spec({str(SPECS / 'income_table.yaml')!r}).graph); assert 'pyarrow' not in sys.modules, 'pyarrow imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


TABLE_SPEC = """
name: t
inputs:
  numeric: {shape: [3]}
layers:
  - {name: income, type: Dense, units: 1, activation: sigmoid, inputs: numeric}
outputs: income
compile: {optimizer: adam, loss: binary_crossentropy, metrics: [accuracy]}
fit: {epochs: 1, batch_size: 2}
data:
  columns: {numeric: [age, hours-per-week, education_years]}
  train: {table: train.csv}
  validation: {table: train.csv}
  test: {table: train.csv}
"""


# ----- the CLI: exit 2, nothing written; the example trained and predicted from raw files ----------------
def test_a_bad_table_exits_2_and_writes_nothing(tmp_path):
    write_csv(tmp_path / "train.csv", [h if h != "age" else "Age" for h in HEADER])
    spec = write(tmp_path, TABLE_SPEC)
    result = cli("train", str(spec), "--run-dir", str(tmp_path / "run"), "--quiet", "--device", "cpu")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "has no column 'age' for input 'numeric' (listed in data.columns.numeric) (did you mean 'Age'?)" in result.output
    assert not (tmp_path / "run").exists()


def test_the_income_example_trains_and_predicts_from_its_csv_files(tmp_path):
    sys.path.insert(0, str(SPECS / "income"))
    try:
        import generate
    finally:
        sys.path.remove(str(SPECS / "income"))
    written = generate.write(tmp_path)
    assert [p.read_bytes() for p in written] == [(SPECS / "income" / p.name).read_bytes() for p in written]  # the committed tables are fresh
    run_dir = tmp_path / "run"
    result = cli("train", str(SPECS / "income_table.yaml"), "--set", "fit.epochs=5", "--run-dir", str(run_dir), "--json", "--quiet",
                 "--device", "cpu", "--seed", "1")  # 0.865 after 5 epochs, 0.873 after the spec's 20
    assert result.exit_code == 0, result.output
    test_table = generate.tables()["test"]
    best, majority = generate.bayes_accuracy(test_table), 1 - test_table["income"].mean()  # 0.88 and 0.75
    accuracy = json.loads(result.output.strip().splitlines()[-1])["test"]["accuracy"]
    assert accuracy > best - 0.04 and accuracy > majority + 0.08, (accuracy, best, majority)
    output = tmp_path / "predictions.npz"
    result = cli("predict", str(SPECS / "income_table.yaml"), "--weights", str(run_dir / "model.safetensors"),
                 "--data", str(SPECS / "income" / "test.csv"), "--output", str(output), "--device", "cpu")
    assert result.exit_code == 0, result.output
    predicted = np.load(output)["income"][:, 0] > 0.5
    assert np.mean(predicted == (reference(SPECS / "income" / "test.csv", ["income"])[:, 0] == 1)) == pytest.approx(accuracy, abs=1e-6)


def test_validate_locates_data_columns_problems(tmp_path):
    from modelspec.checked import check_spec
    from modelspec.errors import SpecError

    spec = write(tmp_path, TABLE_SPEC.replace("{numeric: [age, hours-per-week, education_years]}", "{numerc: [a], numeric: [a, b]}"))
    with pytest.raises(SpecError) as error:
        check_spec(spec)
    located = [(p.line, p.message) for p in error.value.problems]
    assert located[0][0] == located[1][0] == 10 and len(located) == 2  # the data.columns line
    assert "'numerc' is not an input or output of the model (it has 'income', 'numeric') (did you mean 'numeric'?)" in located[0][1]
    assert "input 'numeric' has shape (None, 3), 3 value(s) a row, but 2 column(s) are listed" in located[1][1]


def test_a_run_directory_spec_names_its_tables_from_the_run_directory(tmp_path):
    from modelspec.checked import check_spec
    from modelspec.training.saved_spec import relocated_data

    spec = write(tmp_path, TABLE_SPEC.replace("train: {table: train.csv}", "train: {table: tables/train.parquet}"))
    data = relocated_data(check_spec(spec), tmp_path / "runs" / "one")["data"]
    assert data["train"] == {"table": "../../tables/train.parquet"} and data["test"] == {"table": "../../train.csv"}
    assert data["columns"] == {"numeric": ["age", "hours-per-week", "education_years"]}  # column names are not paths


# ----- predict --output as a table ----------------------------------------------------------------
def test_prediction_columns_for_classifiers_and_regressions():
    from modelspec.data.predictions import prediction_columns
    from modelspec.losses import loss_config
    from modelspec.plan import OutputPlan

    softmax = OutputPlan("digit", (None, 3), loss_config("categorical_crossentropy"))
    sigmoid = OutputPlan("flag", (None, 1), loss_config("binary_crossentropy"))
    logits = OutputPlan("flag", (None, 1), loss_config({"type": "binary_crossentropy", "from_logits": True}))
    probabilities = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]], dtype=np.float32)
    results = {"digit": probabilities, "flag": np.array([[0.2], [0.9]]), "value": np.array([[1.5], [-2.0]])}
    columns = prediction_columns(results, {"digit": softmax, "flag": sigmoid, "value": OutputPlan("value", (None, 1))})
    assert list(columns) == ["digit_0", "digit_1", "digit_2", "digit_class", "flag", "flag_class", "value"]
    np.testing.assert_array_equal(columns["digit_1"], probabilities[:, 1])
    assert columns["digit_class"].tolist() == [1, 0] and columns["flag_class"].tolist() == [0, 1]
    assert prediction_columns({"flag": np.array([[-0.1], [0.2]])}, {"flag": logits})["flag_class"].tolist() == [0, 1]  # logits: > 0


def test_outputs_of_several_dimensions_have_no_table_form():
    from modelspec.data.predictions import prediction_format, table_problem

    assert table_problem({"seq": (None, 5, 2), "y": (None, 1)}) == "output(s) 'seq' (None, 5, 2) hold more than one dimension a sample: write them to an .npz"
    assert table_problem({"y": (None, 4)}) is None
    assert [prediction_format(n) for n in ("p.CSV", "p.tsv", "p.parquet", "p.npz", "p.csv.gz")] == ["csv", "tsv", "parquet", None, None]


def test_predict_writes_a_table_matching_the_npz(tmp_path):
    write_csv(tmp_path / "train.csv")
    spec = write(tmp_path, TABLE_SPEC)
    assert cli("train", str(spec), "--run-dir", str(tmp_path / "run"), "--quiet", "--device", "cpu").exit_code == 0
    weights = str(tmp_path / "run" / "model.safetensors")
    for name in ("p.npz", "p.csv", "p.parquet"):
        result = cli("predict", str(spec), "--weights", weights, "--data", str(tmp_path / "train.csv"), "--output", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    expected = np.load(tmp_path / "p.npz")["income"][:, 0]
    with open(tmp_path / "p.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    np.testing.assert_allclose([float(row["income"]) for row in rows], expected, rtol=1e-6)
    assert [int(row["income_class"]) for row in rows] == (expected > 0.5).astype(int).tolist()
    parquet = pq.read_table(tmp_path / "p.parquet")
    assert parquet.column_names == ["income", "income_class"] and np.array_equal(parquet.column("income").to_numpy(), expected)
    result = cli("predict", str(spec), "--weights", weights, "--data", str(tmp_path / "train.csv"), "--output", str(tmp_path / "p.txt"))
    assert result.exit_code == 2 and "expected a file name ending in .npz, or a table: .csv, .tsv, .parquet" in result.output
    assert not (tmp_path / "p.txt").exists()
