"""Finding a trained model in MLflow: run URIs and registry aliases → a local model directory."""

from __future__ import annotations

import os
import re
from pathlib import Path

import mlflow
from hydra import compose, initialize_config_dir
from mlflow.exceptions import MlflowException

from experiments import schema
from handrec.errors import HandrecError

KERAS_ARTIFACTS = "keras"
RUN_URI = re.compile(r"^runs:/(?P<run_id>[0-9a-f]+)(/.*)?$")
REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(@(?P<alias>[^/]+)|/(?P<version>\d+))$")


class ModelNotFound(HandrecError):
    """The reference names no model that the tracking store has."""


def project_tracking_uri() -> str:
    """MLFLOW_TRACKING_URI if set, else the project's own store as conf/tracking configures it."""
    if "MLFLOW_TRACKING_URI" in os.environ:
        return os.environ["MLFLOW_TRACKING_URI"]
    schema.register()
    with initialize_config_dir(str(schema.PROJECT_ROOT / "conf"), version_base="1.3"):
        return str(compose("config").tracking.uri)


def resolve_model(ref: str, tracking_uri: str | None = None) -> Path:
    """`runs:/<id>[/…]` or `models:/<name>@<alias>` / `models:/<name>/<version>` → a local
    directory holding model.keras and classes.txt, downloaded from the run's artifacts."""
    mlflow.set_tracking_uri(tracking_uri or project_tracking_uri())
    try:
        run_id = _run_id(ref)
        return Path(mlflow.artifacts.download_artifacts(f"runs:/{run_id}/{KERAS_ARTIFACTS}"))
    except MlflowException as err:
        raise ModelNotFound(
            f"no model at {ref}: {err.message.splitlines()[0]} (list runs with make ui or "
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
