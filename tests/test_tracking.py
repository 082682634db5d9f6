"""The MLflow side of a run, against a throwaway sqlite store."""

import time
from pathlib import Path

import mlflow
import pytest

from experiments.schema import TrackingConfig
from experiments.tracking import TrackingError, connect, flatten, tracked_run


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One store for the module: creating a sqlite store takes seconds."""
    tmp_path = tmp_path_factory.mktemp("store")
    tracking = TrackingConfig(
        uri=f"sqlite:///{tmp_path}/mlflow.db", experiment="t", artifact_root=str(tmp_path / "a")
    )
    return tracking, connect(tracking)


def status_of(run) -> str:
    return mlflow.get_run(run.info.run_id).info.status


def test_a_run_that_completes_ends_finished(store):
    _, experiment_id = store
    with tracked_run(experiment_id, "ok", {}) as run:
        mlflow.log_metric("m", 1.0)
    assert status_of(run) == "FINISHED"


def test_a_run_that_raises_ends_failed_and_keeps_its_logs(store):
    _, experiment_id = store
    with pytest.raises(RuntimeError), tracked_run(experiment_id, "bad", {}) as run:
        mlflow.log_metric("before", 1.0)
        raise RuntimeError("boom")
    recorded = mlflow.get_run(run.info.run_id)
    assert recorded.info.status == "FAILED"
    assert recorded.data.metrics["before"] == 1.0
    assert recorded.data.tags["error"] == "RuntimeError: boom"


def test_a_run_interrupted_with_ctrl_c_ends_killed(store):
    _, experiment_id = store
    with pytest.raises(KeyboardInterrupt), tracked_run(experiment_id, "stop", {}) as run:
        raise KeyboardInterrupt
    assert status_of(run) == "KILLED"


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
