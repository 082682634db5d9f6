"""The MLflow side of a run, against a throwaway sqlite store."""

import time
from pathlib import Path

import mlflow
import pytest

from experiments.schema import TrackingConfig, flatten
from experiments.tracking import TrackingError, connect


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One store for the module: creating a sqlite store takes seconds."""
    tmp_path = tmp_path_factory.mktemp("store")
    tracking = TrackingConfig(
        uri=f"sqlite:///{tmp_path}/mlflow.db", experiment="t", artifact_root=str(tmp_path / "a")
    )
    return tracking, connect(tracking)


def test_artifacts_go_under_the_configured_root_not_the_working_directory(store):
    tracking, experiment_id = store
    location = mlflow.get_experiment(experiment_id).artifact_location
    assert location == (Path(tracking.artifact_root) / "t").as_uri()


def test_an_unreachable_tracking_server_fails_fast_with_the_uri():
    started = time.monotonic()
    with pytest.raises(TrackingError, match="tracking.uri=http://127.0.0.1:9 cannot be reached"):
        connect(TrackingConfig(uri="http://127.0.0.1:9", experiment="t"))
    assert time.monotonic() - started < 10


def test_flatten_joins_nested_keys_with_dots():
    assert flatten({"a": {"b": 1, "c": {"d": "x"}}, "e": [1]}) == {"a.b": 1, "a.c.d": "x", "e": [1]}
