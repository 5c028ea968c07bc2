"""Write the `income` tables of specs/income_table.yaml: train.csv (2,400 rows) and test.csv (600 rows).

A census-like table generated from a known rule, so that the best possible accuracy is known:
each row is a person (age, education_years, hours-per-week, workclass) and `income` is 1 (earns
more than 50K) with probability sigmoid(logit(row)), the logistic rule in `logit` below.
`bayes_accuracy` is the accuracy of the best classifier (predicting 1 where that probability is
above 0.5) on a table; tests compare a trained model with it. `workclass` (text) is for string
preprocessing; a numeric model ignores it. The rows are seeded: running this again writes the
same bytes.

    python specs/income/generate.py          # writes specs/income/train.csv and test.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 18
ROWS = {"train": 2400, "test": 600}
COLUMNS = ["age", "workclass", "education_years", "hours-per-week", "income"]
WORKCLASSES = ["Private", "Self-emp", "Government", "Without-pay"]
WORKCLASS_SHARES = [0.7, 0.12, 0.15, 0.03]
WORKCLASS_EFFECT = {"Private": 0.0, "Self-emp": 0.4, "Government": 0.1, "Without-pay": -3.0}


def people(rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The columns of `rows` people, drawn from `rng`."""
    age = np.clip(np.rint(17 + rng.gamma(4.0, 5.5, rows)), 17, 90).astype(np.int64)
    education = np.clip(np.rint(rng.normal(10.5, 2.6, rows)), 1, 20).astype(np.int64)
    hours = np.clip(np.rint(rng.normal(40.0, 11.0, rows)), 1, 99).astype(np.int64)
    workclass = rng.choice(WORKCLASSES, size=rows, p=WORKCLASS_SHARES)
    columns = {"age": age, "workclass": workclass, "education_years": education, "hours-per-week": hours}
    columns["income"] = (rng.random(rows) < probability(columns)).astype(np.int64)
    return columns


def logit(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The log-odds of earning more than 50K: rising with age to about 50, education and hours."""
    age = columns["age"].astype(np.float64)
    effect = np.vectorize(WORKCLASS_EFFECT.get)(columns["workclass"])
    return (-2.2 + 0.12 * (age - 38) - 0.002 * (age - 38) ** 2 + 0.8 * (columns["education_years"] - 10.5)
            + 0.09 * (columns["hours-per-week"] - 40) + effect)


def probability(columns: dict[str, np.ndarray]) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logit(columns)))


def bayes_accuracy(columns: dict[str, np.ndarray]) -> float:
    """Accuracy of the best possible classifier of this rule on these rows."""
    return float(np.mean((probability(columns) > 0.5) == (columns["income"] == 1)))


def tables() -> dict[str, dict[str, np.ndarray]]:
    """The train and test tables, by split (seeded)."""
    rng = np.random.default_rng(SEED)
    return {split: people(rows, rng) for split, rows in ROWS.items()}


def write(folder: Path = HERE) -> list[Path]:
    """Write train.csv and test.csv into `folder` (a header row, then one row a person)."""
    written = []
    for split, columns in tables().items():
        path = folder / f"{split}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(zip(*(columns[name].tolist() for name in COLUMNS)))
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(f"wrote {path}")
