"""Load on one fresh sqlite store: a sweep of 8 jobs in 4 joblib workers and 8 separate runs,
all started at once. Every run must finish with all it records, and no writer may give up on
a locked database. Minutes on 2 cores: `make test-load` runs it, `make test` leaves it out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.conftest import TINY

pytestmark = [pytest.mark.slow, pytest.mark.load]  # `make test-load`: 9 min on 2 busy cores

JOBS = 8


def start(root: Path, *args: str) -> subprocess.Popen:
    store = [
        f"tracking.uri=sqlite:///{root}/mlflow.db",
        f"tracking.artifact_root={root}/artifacts",
        "tracking.experiment=load",
        f"checkpoints={root}/ck",
        "model.filters=2",
    ]
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.run", *args, *TINY, *store],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_NUM_INTRAOP_THREADS": "1"},
    )


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    root = tmp_path_factory.mktemp("load")
    sweep = start(
        root,
        "--multirun",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=4",
        f"hydra.sweep.dir={root}/multirun",
        f"seed={','.join(map(str, range(JOBS)))}",
    )
    singles = [start(root, f"seed={100 + n}", f"hydra.run.dir={root}/run{n}") for n in range(JOBS)]
    errors = [process.communicate(timeout=1200)[1] for process in [sweep, *singles]]
    codes = [process.returncode for process in [sweep, *singles]]
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("load").experiment_id])
    return client, runs, codes, errors


def test_every_process_ends_well_and_no_writer_finds_the_database_locked(loaded):
    _, _, codes, errors = loaded
    assert codes == [0] * (1 + JOBS), [e[-1500:] for e in errors]
    assert not any("database is locked" in e for e in errors)


def test_every_run_finishes_with_its_epochs_test_metrics_and_model(loaded):
    client, runs, _, _ = loaded
    trained = [r for r in runs if r.data.tags.get("handrec.sweep") != "parent"]
    assert len(trained) == 2 * JOBS
    for run in trained:
        assert run.info.status == "FINISHED"
        history = client.get_metric_history(run.info.run_id, "val/accuracy")
        assert [m.step for m in history] == [1]
        assert "test_accuracy" in run.data.metrics
        assert "keras" in {a.path for a in client.list_artifacts(run.info.run_id)}
    (parent,) = [r for r in runs if r.data.tags.get("handrec.sweep") == "parent"]
    assert parent.info.status == "FINISHED" and parent.data.tags["jobs"] == str(JOBS)
