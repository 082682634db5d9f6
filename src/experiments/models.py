"""Finding a trained model in MLflow: run URIs and registry aliases → a local model directory.

Also lists what a store offers (registry aliases, experiments, their best or latest run) for the
recognition page's model choice.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import mlflow
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from sqlalchemy.engine import make_url

from experiments import schema
from experiments.record import is_parent
from handrec.errors import HandrecError, first_line

KERAS_ARTIFACTS = "keras"
CHAMPION = "champion"
TRAIN_HINT = "train one with `make run`"
DATA_TAG = "data.source"
TEST_METRIC = "test_accuracy"
CLASSES_PARAM = "classes"
MAX_LISTED = 100
RUN_URI = re.compile(r"^runs:/(?P<run_id>[0-9a-f]+)(/.*)?$")
REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(@(?P<alias>[^/]+)|/(?P<version>\d+))$")


class ModelNotFound(HandrecError):
    """The reference names no model that the tracking store has."""


def project_tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set, else the project's own store as conf/tracking configures it."""
    if "MLFLOW_TRACKING_URI" in os.environ:
        return os.environ["MLFLOW_TRACKING_URI"]
    return str(schema.compose_config().tracking.uri)


def resolve_model(ref: str, tracking_uri: str | None = None) -> Path:
    """`runs:/<id>[/…]` or `models:/<name>@<alias>` / `models:/<name>/<version>` → a local
    directory holding model.keras and classes.txt, downloaded from the run's artifacts."""
    mlflow.set_tracking_uri(_existing_store(ref, tracking_uri))
    try:
        run_id = _run_id(ref)
        return Path(mlflow.artifacts.download_artifacts(f"runs:/{run_id}/{KERAS_ARTIFACTS}"))
    except MlflowException as err:
        raise ModelNotFound(
            f"no model at {ref}: {first_line(err)} (list runs with make ui or "
            "python -m experiments.compare)"
        ) from err


def _run_id(ref: str) -> str:
    if match := RUN_URI.match(ref):
        return match["run_id"]
    if match := REGISTRY_URI.match(ref):
        client = mlflow.MlflowClient()
        if match["alias"]:
            version = client.get_model_version_by_alias(match["name"], match["alias"])
        else:
            version = client.get_model_version(match["name"], match["version"])
        return version.run_id
    raise ModelNotFound(
        f"{ref!r} is not a model reference: use a .keras file, runs:/<run_id>/model or "
        "models:/<name>@<alias>"
    )


def has_store(tracking_uri: str) -> bool:
    """False for a local sqlite store whose file does not exist yet: asking MLflow about it would
    create an empty store as a side effect of merely looking."""
    if not tracking_uri.startswith("sqlite:"):
        return True
    database = make_url(tracking_uri).database
    return bool(database) and (database == ":memory:" or Path(database).is_file())


def list_aliases(tracking_uri: str | None = None) -> list[str]:
    """Every registry alias as `models:/<name>@<alias>`, those named `champion` first."""
    client = _client(tracking_uri)
    if client is None:
        return []
    with _one_line_errors("cannot list registered models"):
        uris = [
            (alias != CHAMPION, f"models:/{model.name}@{alias}")
            for model in client.search_registered_models(max_results=1000)
            for alias in model.aliases
        ]
    return [uri for _, uri in sorted(uris)]


def list_experiments(tracking_uri: str | None = None) -> list[str]:
    """The names of the store's active experiments, alphabetically."""
    client = _client(tracking_uri)
    if client is None:
        return []
    with _one_line_errors("cannot list experiments"):
        return sorted(e.name for e in client.search_experiments())


@dataclass(frozen=True)
class TrainedRun:
    """A finished run that trained a model, with what a person picks a model by; `classes` is
    the size of its label space (0 where the run did not log it)."""

    uri: str
    name: str
    data: str
    val_accuracy: float
    test_accuracy: float | None
    classes: int
    started_ms: int


def trained_runs(
    experiment: str,
    pick: Literal["best", "latest"] = "best",
    metric: str = "best_val_accuracy",
    tracking_uri: str | None = None,
) -> list[TrainedRun]:
    """The experiment's finished runs that logged `metric`, highest `metric` first (best) or
    most recent first (latest), at most MAX_LISTED. A parent run (which holds its best
    child's metrics) trains nothing and is left out."""
    client = _client(tracking_uri)
    order = f"metrics.`{metric}` DESC" if pick == "best" else "attributes.start_time DESC"
    with _one_line_errors(f"cannot search the runs of {experiment!r}"):
        found = client.get_experiment_by_name(experiment) if client is not None else None
        if found is None:
            raise ModelNotFound(f"no experiment {experiment!r} in the tracking store: {TRAIN_HINT}")
        runs = client.search_runs(
            [found.experiment_id],
            "attributes.status = 'FINISHED'",
            order_by=[order],
            max_results=MAX_LISTED,
        )
    return [
        _trained(run, metric) for run in runs if metric in run.data.metrics and not is_parent(run)
    ]


def find_model(
    experiment: str,
    pick: Literal["best", "latest"] = "best",
    metric: str = "best_val_accuracy",
    tracking_uri: str | None = None,
) -> str:
    """`runs:/<id>/model` of the experiment's best or latest run that trained (see
    `trained_runs`)."""
    runs = trained_runs(experiment, pick, metric, tracking_uri)
    if not runs:
        raise ModelNotFound(
            f"experiment {experiment!r} has no finished run with metric {metric!r}: {TRAIN_HINT}"
        )
    return runs[0].uri


def _trained(run: Run, metric: str) -> TrainedRun:
    metrics = run.data.metrics
    return TrainedRun(
        uri=f"runs:/{run.info.run_id}/model",
        name=run.info.run_name or run.info.run_id,
        data=run.data.tags.get(DATA_TAG, ""),
        val_accuracy=metrics[metric],
        test_accuracy=metrics.get(TEST_METRIC),
        classes=len(run.data.params.get(CLASSES_PARAM, "")),
        started_ms=run.info.start_time or 0,
    )


def run_uri(ref: str, tracking_uri: str | None = None) -> str:
    """`models:/<name>@<alias>`, `models:/<name>/<version>` or `runs:/<id>[/…]` →
    `runs:/<id>/model`: names the trained model itself, which never changes, whereas an alias may
    move to another version (so a cache keyed by it would serve a stale model)."""
    mlflow.set_tracking_uri(_existing_store(ref, tracking_uri))
    with _one_line_errors(f"no model at {ref}"):
        return f"runs:/{_run_id(ref)}/model"


def _existing_store(ref: str, tracking_uri: str | None) -> str:
    """The store's URI; a ModelNotFound where it does not exist, rather than creating it."""
    uri = tracking_uri or project_tracking_uri()
    if not has_store(uri):
        raise ModelNotFound(f"no model at {ref}: the tracking store {uri} is empty: {TRAIN_HINT}")
    return uri


def _client(tracking_uri: str | None) -> mlflow.MlflowClient | None:
    """A client of the store, or None where the store does not exist."""
    uri = tracking_uri or project_tracking_uri()
    return mlflow.MlflowClient(uri) if has_store(uri) else None


@contextmanager
def _one_line_errors(doing: str) -> Iterator[None]:
    """MLflow's exceptions (many types, long messages) → a one-line ModelNotFound."""
    try:
        yield
    except MlflowException as error:
        raise ModelNotFound(f"{doing}: {first_line(error)}") from None
