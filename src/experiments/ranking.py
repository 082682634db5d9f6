"""The runs of an experiment or a sweep as one table, sorted; the best one's model, registered.

What `python -m experiments.compare` does once its arguments and config are checked: importing
this module loads MLflow (not TensorFlow).
"""

from __future__ import annotations

from urllib.parse import urlparse

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import LoggedModel
from mlflow.exceptions import MlflowException

from experiments.models import CHAMPION
from experiments.record import COMPARED, EVALUATION_TAG, PARENT_TAG, VAL_ACCURACY
from experiments.tracking import check_reachable, sqlite_file
from handrec.errors import HandrecError, first_line

METRICS = COMPARED


class CompareError(HandrecError):
    """Nothing to compare, or a wrong name."""


def open_store(uri: str) -> None:
    """Points MLflow at the store the runs were recorded in. A sqlite store must exist to be
    compared: opening a mistyped path would create one."""
    database = sqlite_file(uri) if urlparse(uri).scheme == "sqlite" else None
    if database is not None and not database.is_file():
        raise CompareError(
            f"tracking.uri={uri}: no tracking store at {database}: check the path (runs are "
            "recorded where their tracking.uri pointed)"
        )
    check_reachable(uri)
    mlflow.set_tracking_uri(uri)


def experiment_id(name: str) -> str:
    """The id of the experiment `name`; one line when the store has none of that name."""
    found = MlflowClient().get_experiment_by_name(name)
    if found is None:
        raise CompareError(f"no experiment {name!r} in {mlflow.get_tracking_uri()}")
    return found.experiment_id


def select_runs(experiment: str, sweep: str | None = None, filter_string: str = "") -> pd.DataFrame:
    """The training runs of an experiment, or of one parent run, that match the filter; parents
    and evaluation runs left out."""
    query = filter_string
    if sweep:
        experiment_ids = [sweep_experiment(sweep)]
        parent = f"tags.mlflow.parentRunId = '{sweep}'"
        query = f"{parent} and {filter_string}" if filter_string else parent
    else:
        experiment_ids = [experiment_id(experiment)]
    try:
        runs = mlflow.search_runs(experiment_ids, filter_string=query)
    except MlflowException as err:
        raise CompareError(
            f"--filter {filter_string!r} is not an MLflow search filter ({first_line(err)}): "
            "e.g. --filter \"params.model.filters = '64' and metrics.test_accuracy > 0.9\""
        ) from None
    if f"tags.{PARENT_TAG}" in runs:
        runs = runs[runs[f"tags.{PARENT_TAG}"] != "parent"]
    if f"tags.{EVALUATION_TAG}" in runs:
        runs = runs[runs[f"tags.{EVALUATION_TAG}"].isna()]
    if runs.empty:
        raise CompareError(
            f"no runs match (experiment {experiment!r}, sweep {sweep}, filter {filter_string!r})"
        )
    return runs


def sweep_experiment(sweep: str) -> str:
    """The experiment of the parent run `sweep`; one line when the store has no such run."""
    try:
        return MlflowClient().get_run(sweep).info.experiment_id
    except MlflowException:
        raise CompareError(
            f"--sweep {sweep}: no such run in {mlflow.get_tracking_uri()}: give the parent run "
            "id a sweep, search or repeat printed (or see the runs: python -m experiments.compare)"
        ) from None


def runs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run (indexed by run id): name, the params that differ, metrics, duration,
    status."""
    params = sorted(c for c in runs if c.startswith("params."))
    table = pd.DataFrame({"run": runs["tags.mlflow.runName"].to_numpy()}, index=runs["run_id"])
    for column in params:
        if runs[column].nunique(dropna=False) > 1:
            table[column.removeprefix("params.")] = runs[column].to_numpy()
    for metric in METRICS:
        table[metric] = runs.get(f"metrics.{metric}", pd.Series(np.nan, runs.index)).to_numpy()
    unfinished = np.isnan(table["best_val_accuracy"].to_numpy(dtype=float))
    table.loc[unfinished, "best_val_accuracy"] = [
        best_val_accuracy(run_id) for run_id in table.index[unfinished]
    ]
    table["duration_s"] = (runs["end_time"] - runs["start_time"]).dt.total_seconds().to_numpy()
    pruned = runs.get("tags.optuna.pruned", pd.Series(None, runs.index)).eq("true").to_numpy()
    table["status"] = np.where(pruned, runs["status"] + " (pruned)", runs["status"])
    return table


def printable(table: pd.DataFrame) -> pd.DataFrame:
    """Metrics to 4 decimals, durations to 0.1 s, long sampled floats to 4 digits."""
    shown = table.round({**dict.fromkeys(METRICS, 4), "duration_s": 1})
    params = table.columns[1 : table.columns.get_loc(METRICS[0])]
    shown[params] = shown[params].map(short)
    return shown


def short(value: object) -> object:
    """A float param with many digits (sampled by a search) to 4 significant ones."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return f"{number:.4g}" if len(str(value)) > 6 and "." in str(value) else value


def best_val_accuracy(run_id: str) -> float:
    """The best epoch's validation accuracy from the curve, for a run that ended before it
    logged its summary (a failed or killed one)."""
    history = MlflowClient().get_metric_history(run_id, VAL_ACCURACY)
    return max((m.value for m in history), default=np.nan)


def sort_table(table: pd.DataFrame, column: str, ascending: bool = False) -> pd.DataFrame:
    if column not in table:
        raise CompareError(f"cannot sort by {column!r}: choose one of {', '.join(table.columns)}")
    return table.sort_values(column, ascending=ascending, na_position="last", kind="stable")


def best_run(table: pd.DataFrame) -> str:
    """The id of the first finished run of a sorted table."""
    finished = table.index[table["status"].str.startswith("FINISHED")]
    if finished.empty:
        raise CompareError("no finished run to choose from")
    return finished[0]


def model_uri(run_id: str) -> str:
    """`runs:/<run id>/<model name>`: the model the run logged (each has its own name)."""
    return f"runs:/{run_id}/{logged_model(run_id).name}"


def logged_model(run_id: str) -> LoggedModel:
    found = mlflow.search_logged_models(
        experiment_ids=[MlflowClient().get_run(run_id).info.experiment_id],
        filter_string=f"source_run_id = '{run_id}'",
        output_format="list",
    )
    if not found:
        raise CompareError(f"run {run_id} logged no model (it ended before training did)")
    return found[0]


def register(run_id: str, name: str) -> str:
    """Registers the run's model under `name` and points the alias `champion` at it."""
    # by the logged model's id, so that the version links to the model (and its evaluations)
    version = mlflow.register_model(f"models:/{logged_model(run_id).model_id}", name)
    MlflowClient().set_registered_model_alias(name, CHAMPION, version.version)
    return version.version
