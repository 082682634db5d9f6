"""The models × data sets table of the evaluation runs (`experiments.evaluate`), for
`python -m experiments.compare --evaluations`."""

from __future__ import annotations

import mlflow
import pandas as pd

from experiments.record import DATASET_TAG, EVALUATION_TAG, MODEL_ID_TAG, MODEL_NAME_TAG
from handrec.errors import HandrecError


class NoEvaluations(HandrecError):
    """The experiment holds no evaluation run."""


def evaluations_table(experiment_id: str) -> pd.DataFrame:
    """One row a model, one column a data set: its accuracy, or for a line set (`<name> CER`)
    the character error rate; the latest evaluation of each pair counts."""
    runs = mlflow.search_runs(
        [experiment_id],
        filter_string=f"tags.`{EVALUATION_TAG}` != '' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
    )
    if runs.empty:
        raise NoEvaluations(
            "no evaluation runs in this experiment: score a model with "
            "python -m experiments.evaluate"
        )
    kinds = runs[f"tags.{EVALUATION_TAG}"]
    cells = pd.DataFrame(
        {
            "model": runs[f"tags.{MODEL_NAME_TAG}"],
            "model_id": runs[f"tags.{MODEL_ID_TAG}"],
            "data": runs[f"tags.{DATASET_TAG}"].where(
                kinds == "images", runs[f"tags.{DATASET_TAG}"] + " CER"
            ),
            "score": metric(runs, "accuracy").where(kinds == "images", metric(runs, "cer")),
        }
    ).drop_duplicates(["model_id", "data"])
    table = cells.pivot(index=["model", "model_id"], columns="data", values="score")
    table.columns.name = None
    return table.reset_index()


def metric(runs: pd.DataFrame, name: str) -> pd.Series:
    """A metric's column of a search_runs frame, NaN where no run logged it."""
    return runs.get(f"metrics.{name}", pd.Series(float("nan"), runs.index))


def data_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c not in ("model", "model_id")]


def sort_evaluations(table: pd.DataFrame, column: str | None, ascending: bool) -> pd.DataFrame:
    """By one data set's column (default: the first), best first: highest accuracy, or lowest
    CER (a `… CER` column sorts ascending unless asked otherwise)."""
    columns = data_columns(table)
    column = column or columns[0]
    if column not in columns:
        raise NoEvaluations(f"no data set {column!r} evaluated: choose one of {', '.join(columns)}")
    return table.sort_values(
        column, ascending=ascending or column.endswith(" CER"), na_position="last", kind="stable"
    )
