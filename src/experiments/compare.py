"""Compare runs in a table, pick the best by validation accuracy, register it.

python -m experiments.compare                                  # the runs of experiment handrec
python -m experiments.compare --sweep <parent run id>           # one sweep, search or repeat
python -m experiments.compare --filter "params.model.filters = '64'" --sort test_accuracy
python -m experiments.compare --sweep <id> --best               # its id and model URI
python -m experiments.compare --sweep <id> --register --name handrec   # → handrec@champion
python -m experiments.compare tracking.uri=http://host:5000     # another store (config key)
python -m experiments.compare --evaluations [--sort emnist_36 --best]  # models x data sets

The table shows the params that differ between the runs. It is sorted by the best validation
accuracy: test metrics are shown, but choosing by them would leak the test set into selection.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import LoggedModel
from mlflow.exceptions import MlflowException

from experiments import cli, schema
from experiments.evaluations import data_columns, evaluations_table, sort_evaluations
from experiments.models import CHAMPION
from experiments.record import COMPARED, EVALUATION_TAG, PARENT_TAG, VAL_ACCURACY
from experiments.schema import PROJECT_ROOT, compose_config
from experiments.tracking import check_reachable, sqlite_file
from handrec.errors import HandrecError, first_line

METRICS = COMPARED


class CompareError(HandrecError):
    """Nothing to compare, or a wrong name."""


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    tracking = tracking_config(args.overrides)
    require_store(tracking.uri)
    check_reachable(tracking.uri)
    mlflow.set_tracking_uri(tracking.uri)
    if args.evaluations:
        compare_evaluations(args.experiment or tracking.experiment, args)
        return
    runs = select_runs(args.experiment or tracking.experiment, args.sweep, args.filter)
    args.sort = args.sort or "best_val_accuracy"
    table = sort_table(runs_table(runs), args.sort, args.ascending)
    print(printable(table).to_string(index=False))
    if args.best or args.register:
        run_id = best_run(table)
        best = printable(table).loc[run_id]
        print(f"\nbest run: {best['run']} ({args.sort} {best[args.sort]})")
        print(f"run id: {run_id}\nmodel URI: {model_uri(run_id)}")
    if args.register:
        version = register(run_id, args.name)
        print(f"registered {args.name} version {version}: models:/{args.name}@{CHAMPION}")


def compare_evaluations(experiment: str, args: argparse.Namespace) -> None:
    """Prints the models × data sets table, writes it as CSV, and with --best names the best
    model on the sorted data set."""
    found = MlflowClient().get_experiment_by_name(experiment)
    if found is None:
        raise CompareError(f"no experiment {experiment!r} in {mlflow.get_tracking_uri()}")
    table = sort_evaluations(evaluations_table(found.experiment_id), args.sort, args.ascending)
    print(table.round(4).to_string(index=False))
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.csv, index=False)
    print(f"\nwritten to {args.csv}")
    if args.best:
        column = args.sort or data_columns(table)[0]
        best = table.iloc[0]
        print(f"best on {column}: {best['model']} ({best[column]:.4f}), models:/{best['model_id']}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.parser("experiments.compare", __doc__)
    parser.add_argument(
        "overrides", nargs="*", help="config overrides naming the store, e.g. tracking.uri=..."
    )
    parser.add_argument("--experiment", help="experiment name (default: tracking.experiment)")
    parser.add_argument("--sweep", help="only the children of this parent run")
    parser.add_argument("--filter", default="", help="an MLflow search filter string")
    parser.add_argument("--sort", help="column to sort by (default: best_val_accuracy)")
    parser.add_argument("--ascending", action="store_true", help="smallest first")
    parser.add_argument("--best", action="store_true", help="print the best run's model URI")
    parser.add_argument("--register", action="store_true", help=f"register it as @{CHAMPION}")
    parser.add_argument("--name", default="handrec", help="registered model name")
    parser.add_argument(
        "--evaluations",
        action="store_true",
        help="models x data sets from experiments.evaluate runs; --sort names a data set",
    )
    parser.add_argument(
        "--csv",
        type=Path,
        default=PROJECT_ROOT / "outputs" / "evaluations.csv",
        help="where --evaluations writes its table (default: outputs/evaluations.csv)",
    )
    return parser.parse_args(argv)


def tracking_config(overrides: Sequence[str]) -> schema.TrackingConfig:
    """The store runs log to, from the same config (and overrides) the runs use."""
    return schema.settings(compose_config(overrides)).tracking


def select_runs(experiment: str, sweep: str | None = None, filter_string: str = "") -> pd.DataFrame:
    """The training runs of an experiment, or of one parent run, that match the filter; parents
    and evaluation runs left out."""
    query = filter_string
    if sweep:
        experiment_ids = [sweep_experiment(sweep)]
        parent = f"tags.mlflow.parentRunId = '{sweep}'"
        query = f"{parent} and {filter_string}" if filter_string else parent
    else:
        found = MlflowClient().get_experiment_by_name(experiment)
        if found is None:
            raise CompareError(f"no experiment {experiment!r} in {mlflow.get_tracking_uri()}")
        experiment_ids = [found.experiment_id]
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


def require_store(uri: str) -> None:
    """A sqlite store must exist to be compared: opening a mistyped path would create one."""
    database = sqlite_file(uri) if urlparse(uri).scheme == "sqlite" else None
    if database is not None and not database.is_file():
        raise CompareError(
            f"tracking.uri={uri}: no tracking store at {database}: check the path (runs are "
            "recorded where their tracking.uri pointed)"
        )


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


if __name__ == "__main__":
    cli.cli(main, schema.CONFIG_ERRORS)
