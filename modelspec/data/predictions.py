"""`predict --output preds.csv` (or `.tsv`, `.parquet`): the predictions as a table, one row a sample.

    income                  # an output of one unit: its value (a sigmoid's probability)
    income_class            # a classifier's predicted class: 1 where the probability is above 0.5
    digit_0 ... digit_9     # an output of k units: one column a unit (a softmax's probabilities, in class order)
    digit_class             # argmax over the units, as Keras users write np.argmax(model.predict(x), axis=-1)

A classifier is an output whose loss takes class labels (categorical, sparse categorical or binary
cross-entropy, ...); a single-unit binary output's class is `value > 0.5` (`> 0` with `from_logits`),
a multi-unit one's the argmax. An output of more than one dimension a sample has no table form: use
`.npz`. pyarrow writes the file (imported only then).

    problem = table_problem(graph.output_shapes)           # None, or why the outputs make no table
    columns = prediction_columns(results, plan.outputs)   # column name -> (n,) array
    write_predictions(handle, columns, "csv")
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The table formats `predict --output` writes, by suffix.
PREDICTION_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}
#: Label kinds of a classifier's loss.
CLASS_LABELS = ("categorical", "sparse", "binary")


def prediction_format(output: str) -> str | None:
    """'csv', 'tsv' or 'parquet' for a table name, None for any other (.npz included)."""
    return next((fmt for suffix, fmt in PREDICTION_FORMATS.items() if output.lower().endswith(suffix)), None)


def table_problem(output_shapes: dict[str, tuple]) -> str | None:
    """Why these outputs cannot be written as a table (an output of more than one dimension a sample), or None."""
    deep = [f"'{name}' {tuple(shape)}" for name, shape in output_shapes.items() if shape is not None and len(shape) > 2]
    if deep:
        return f"output(s) {', '.join(deep)} hold more than one dimension a sample: write them to an .npz"
    return None


def _units_names(name: str, units: int) -> list[str]:
    return [name] if units == 1 else [f"{name}_{i}" for i in range(units)]


def _classes(values: np.ndarray, output: Any) -> np.ndarray | None:
    """The predicted class of each row of a classifier's outputs (n, units), or None for another output."""
    if output is None or output.label_kind not in CLASS_LABELS:
        return None
    if values.shape[1] > 1:
        return None if output.label_kind == "binary" else values.argmax(axis=1)  # several sigmoids: multi-label, no one class
    threshold = 0.0 if getattr(output.loss, "from_logits", False) else 0.5
    return (values[:, 0] > threshold).astype(np.int64)


def prediction_columns(results: dict[str, np.ndarray], outputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Column name -> values: each output's units (`name`, or `name_0` ... `name_k`), then a classifier's `name_class`.
    `outputs`: the plan's OutputPlans by name (their label kinds and losses); ValueError for two columns of one name."""
    columns: dict[str, np.ndarray] = {}
    for name, array in results.items():
        values = np.asarray(array).reshape(len(array), math.prod(array.shape[1:]))
        names = _units_names(name, values.shape[1])
        classes = _classes(values, outputs.get(name))
        names += [f"{name}_class"] if classes is not None else []
        taken = [column for column in names if column in columns]
        if taken:
            raise ValueError(f"output '{name}' would write column '{taken[0]}', which another output writes: write an .npz")
        columns.update(zip(names, [*values.T, *([classes] if classes is not None else [])]))
    return columns


def write_predictions(handle: Any, columns: dict[str, np.ndarray], fmt: str) -> None:
    """Write the columns to a binary file as a CSV / TSV (a header row) or Parquet table."""
    import pyarrow as pa

    table = pa.table(columns)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, handle)
        return
    from pyarrow import csv

    csv.write_csv(table, handle, write_options=csv.WriteOptions(delimiter="\t" if fmt == "tsv" else ","))
