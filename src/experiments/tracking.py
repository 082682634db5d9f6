"""Everything MLflow but Keras: the store, and what a run records (how runs live: lifecycle.py;
what Keras hands to MLflow: keras_logging.py, so that commands that only read or check the store
start without TensorFlow)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
import requests
from filelock import FileLock
from mlflow.entities import Experiment
from mlflow.exceptions import MlflowException
from sqlalchemy.engine import make_url

from experiments.record import (
    EXPERIMENT_KIND_TAG,
    SHARED_VIEW,
    SHARED_VIEW_TAG,
    TRAINING_KIND,
    TRAINING_VIEW,
    training_view,
)
from experiments.schema import PROJECT_ROOT, TrackingConfig
from handrec.errors import HandrecError, first_line

PARENT_RUN_ENV = "HANDREC_PARENT_RUN_ID"
SWEPT_KEYS_ENV = "HANDREC_SWEPT_KEYS"  # a sweep job's name lists only these keys' values
SYSTEM_METRICS_PREFIX = "system/"
TRAINING_TAGS = {EXPERIMENT_KIND_TAG: TRAINING_KIND}
_FIRST_USE_TIMEOUT_S = 300  # creating the tables takes seconds; this is a stuck lock


class TrackingError(HandrecError):
    """The tracking store cannot be used."""


def connect(tracking: TrackingConfig) -> str:
    """Point MLflow at the store, fail fast if it is unreachable, return the experiment id.

    Runs before any data is loaded, so a wrong URI costs seconds, not a training run.
    """
    check_reachable(tracking.uri)
    mlflow.set_tracking_uri(tracking.uri)
    with _first_use_lock(tracking.uri):
        client = mlflow.MlflowClient()
    try:
        experiment = client.get_experiment_by_name(tracking.experiment)
        if experiment is not None:
            return mark_training(client, experiment)
        location = _artifact_location(tracking)
        return client.create_experiment(
            tracking.experiment,
            artifact_location=location,
            tags={**TRAINING_TAGS, SHARED_VIEW_TAG: training_view(int(time.time() * 1000))},
        )
    except MlflowException as err:
        if err.error_code == "RESOURCE_ALREADY_EXISTS":
            return mark_training(client, client.get_experiment_by_name(tracking.experiment))
        raise TrackingError(
            f"tracking store {tracking.uri} refused experiment {tracking.experiment!r}: "
            f"{first_line(err)} (check tracking.uri / tracking.experiment)"
        ) from err


def mark_training(client: mlflow.MlflowClient, experiment: Experiment) -> str:
    """Tags an experiment handrec uses as classic ML, so the UI opens it on its training runs
    (MLflow 3 otherwise opens it in its GenAI view); returns its id."""
    if experiment.tags.get(EXPERIMENT_KIND_TAG) != TRAINING_KIND:
        client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, TRAINING_KIND)
    if SHARED_VIEW_TAG not in experiment.tags:
        client.set_experiment_tag(
            experiment.experiment_id, SHARED_VIEW_TAG, training_view(int(time.time() * 1000))
        )
    return experiment.experiment_id


def check_reachable(uri: str) -> None:
    scheme = urlparse(uri).scheme
    if scheme in ("http", "https"):
        try:
            requests.get(f"{uri.rstrip('/')}/health", timeout=5).raise_for_status()
        except requests.RequestException as err:
            raise TrackingError(
                f"tracking.uri={uri} cannot be reached ({type(err).__name__}): start the MLflow "
                "server or set tracking.uri to a reachable store"
            ) from err
    elif scheme == "sqlite":
        database = sqlite_file(uri)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
    elif scheme not in ("file", "databricks", "postgresql", "mysql", "mssql", ""):
        raise TrackingError(
            f"tracking.uri={uri} has an unknown scheme {scheme!r}: use sqlite:///, "
            "http(s)://, file:// or a database URI"
        )


def _first_use_lock(uri: str) -> AbstractContextManager:
    """Lets one process at a time open a sqlite store (MLflow opens it once per process).

    Opening a new store creates and migrates its tables; jobs started in parallel on a fresh
    file otherwise race ("table ... already exists", "duplicate column"). Once the tables
    exist, MLflow's busy timeout (20 s) makes concurrent writers wait their turn.
    """
    database = sqlite_file(uri) if urlparse(uri).scheme == "sqlite" else None
    if database is None:
        return nullcontext()
    return FileLock(f"{database}.lock", timeout=_FIRST_USE_TIMEOUT_S)


def sqlite_file(uri: str) -> Path | None:
    """The database file of a sqlite URI; None for an in-memory database."""
    database = make_url(uri).database
    return None if database in (None, "", ":memory:") else Path(database)


def _artifact_location(tracking: TrackingConfig) -> str | None:
    if tracking.artifact_root is None or urlparse(tracking.uri).scheme in ("http", "https"):
        return None
    return (Path(tracking.artifact_root) / tracking.experiment).resolve().as_uri()


def last_logged_epoch(run_id: str) -> int:
    """The highest step of any metric of the run but MLflow's system metrics (sampled on their
    own clock): its last epoch logged (0: none)."""
    client = mlflow.MlflowClient()
    return max(
        (
            metric.step
            for key in client.get_run(run_id).data.metrics
            if not key.startswith(SYSTEM_METRICS_PREFIX)
            for metric in client.get_metric_history(run_id, key)
        ),
        default=0,
    )


def log_missing_params(run_id: str, params: Mapping[str, Any]) -> None:
    """Logs the params the run lacks: a resumed run gets what its earlier attempt did not log
    (it may have failed before), and keeps those it did (MLflow refuses a changed value, and
    settings such as train.epochs may change on resumption)."""
    logged = mlflow.MlflowClient().get_run(run_id).data.params
    missing = {key: value for key, value in params.items() if key not in logged}
    if missing:
        mlflow.log_params(missing)


def git_commit() -> str:
    """The project's commit, with "-dirty" when the working tree has changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def logged_history(run_id: str, keys: Sequence[str]) -> dict[str, list[float]]:
    """Per-epoch values as MLflow holds them: all epochs, also those before a resumption."""
    client = mlflow.MlflowClient()
    return {
        key: [m.value for m in sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)]
        for key in keys
    }


def run_url(tracking_uri: str, experiment_id: str, run_id: str) -> str:
    """Where the run opens in the UI's training view: on the server itself, or at `make ui`'s
    default address."""
    return f"{ui_base(tracking_uri)}/#/experiments/{experiment_id}/runs/{run_id}?{TRAINING_VIEW}"


def experiment_url(tracking_uri: str, experiment_id: str) -> str:
    """The experiment's runs table in the UI's training view, with handrec's columns."""
    return (
        f"{ui_base(tracking_uri)}/#/experiments/{experiment_id}/runs?{TRAINING_VIEW}&{SHARED_VIEW}"
    )


def ui_base(tracking_uri: str) -> str:
    base = (
        tracking_uri
        if urlparse(tracking_uri).scheme in ("http", "https")
        else (os.environ.get("HANDREC_UI_URL", "http://127.0.0.1:5000"))
    )
    return base.rstrip("/")
