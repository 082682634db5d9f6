"""Sweeps whose jobs run in parallel: joblib (and Ray, when installed) against one sqlite store."""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from mlflow import MlflowClient
from omegaconf import DictConfig, OmegaConf

from experiments.schema import TrackingConfig, register
from experiments.sweep import (
    THREAD_ENV,
    LauncherMissing,
    SweepParentRun,
    require_launcher,
    share_cores,
    threads_per_job,
)
from experiments.tracking import PARENT_RUN_ENV, connect
from tests.conftest import CONF_DIR, TINY

RAY_LAUNCHER = "hydra_plugins.hydra_ray_launcher"
METRICS = ("val/accuracy", "best_val_accuracy", "test_accuracy", "test_macro_f1", "train/loss")


def sweep(root: Path, *args: str) -> subprocess.CompletedProcess:
    """A --multirun of tiny jobs over model.filters, logging to a fresh store under root."""
    tiny = [a for a in TINY if not a.startswith("model.filters=")]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.run",
            "--multirun",
            *args,
            *tiny,
            f"tracking.uri=sqlite:///{root}/mlflow.db",
            f"tracking.artifact_root={root}/artifacts",
            "tracking.experiment=parallel",
            f"hydra.sweep.dir={root}/multirun",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def runs_of(root: Path) -> list:
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    return client.search_runs([client.get_experiment_by_name("parallel").experiment_id])


def children(runs: list) -> list:
    return [r for r in runs if "mlflow.parentRunId" in r.data.tags]


@pytest.fixture(scope="module")
def joblib_sweep(tmp_path_factory):
    """Four jobs at once in joblib's worker processes, on a store no process has opened yet;
    a key given twice (`train.epochs`, also in TINY), as a long command line may."""
    root = tmp_path_factory.mktemp("joblib")
    done = sweep(
        root,
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=4",
        "model.filters=2,3,4,5",
        "train.epochs=1",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return runs_of(root)


def test_four_parallel_jobs_all_finish_with_all_their_metrics(joblib_sweep):
    jobs = children(joblib_sweep)
    assert sorted(r.data.params["model.filters"] for r in jobs) == ["2", "3", "4", "5"]
    for run in jobs:
        assert run.info.status == "FINISHED"
        assert set(METRICS) <= set(run.data.metrics)


def test_parallel_jobs_find_their_parent_run_from_the_launching_process(joblib_sweep):
    (parent,) = [r for r in joblib_sweep if r.data.tags.get("handrec.sweep") == "parent"]
    assert {r.data.tags["mlflow.parentRunId"] for r in children(joblib_sweep)} == {
        parent.info.run_id
    }
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["jobs"] == "4"
    assert parent.data.params["model.filters"] == "2,3,4,5"
    assert parent.data.params["train.epochs"] == "1"


def test_parallel_jobs_run_at_the_same_time(joblib_sweep):
    jobs = children(joblib_sweep)
    assert max(r.info.start_time for r in jobs) < min(r.info.end_time for r in jobs)


def connect_to(uri: str) -> str:
    return connect(TrackingConfig(uri=uri, experiment="race"))


def test_processes_opening_a_fresh_store_at_once_all_connect(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        experiment_ids = pool.map(connect_to, [uri] * 4)
    assert len(set(experiment_ids)) == 1


@pytest.mark.parametrize(
    ("n_jobs", "cpus", "threads"), [(2, 2, 1), (2, 8, 4), (-1, 8, 1), (16, 8, 1)]
)
def test_joblib_jobs_share_the_cores(n_jobs, cpus, threads):
    assert threads_per_job(OmegaConf.create({"n_jobs": n_jobs}), cpus) == threads


def test_ray_jobs_without_num_cpus_get_one_thread_as_ray_reserves_one_core_a_task():
    assert threads_per_job(OmegaConf.create({"ray": {"init": {}, "remote": {}}}), 8) == 1


def test_ray_jobs_get_their_tasks_cpus_as_threads():
    launcher = OmegaConf.create({"ray": {"remote": {"num_cpus": 2}}})
    assert threads_per_job(launcher, 8) == 2


@pytest.fixture
def own_environ(monkeypatch):
    """The test's own copy of the environment: what the code under test sets there is gone
    after the test, also variables that did not exist before."""
    monkeypatch.setattr(os, "environ", os.environ.copy())


def test_the_serial_launcher_leaves_threads_alone(own_environ):
    for name in THREAD_ENV:
        os.environ.pop(name, None)
    assert share_cores(OmegaConf.create({"_target_": "basic"})) == {}
    assert not set(THREAD_ENV) & set(os.environ)


def test_a_thread_count_set_by_the_user_is_kept(own_environ):
    os.environ["TF_NUM_INTRAOP_THREADS"] = "3"
    os.environ.pop("TF_NUM_INTEROP_THREADS", None)
    threads = share_cores(OmegaConf.create({"n_jobs": 64}))
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == threads["TF_NUM_INTRAOP_THREADS"] == "3"
    assert os.environ["TF_NUM_INTEROP_THREADS"] == threads["TF_NUM_INTEROP_THREADS"] == "1"


def start_sweep(root: Path, *overrides: str) -> tuple[str, DictConfig]:
    """What Hydra does for a --multirun before any job: compose, then the callback's
    on_multirun_start; returns the parent run's id and a job's config as every launcher
    (basic, joblib, Ray) composes it, from the sweep's Hydra overrides, before sending it to
    the process that runs the job."""
    register()
    store = [f"tracking.uri=sqlite:///{root}/mlflow.db", f"tracking.artifact_root={root}/a"]
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=[*overrides, *store], return_hydra_config=True)
        callback = SweepParentRun()
        callback.on_multirun_start(cfg)
        parent_run_id = callback.parent.run_id
        job = GlobalHydra.instance().config_loader().load_sweep_config(cfg, ["model.filters=2"])
    callback.close()
    return parent_run_id, job


def test_a_job_carries_its_parent_run_id_in_its_own_config(tmp_path, own_environ):
    parent_run_id, job = start_sweep(tmp_path)
    assert job.hydra.job.env_set[PARENT_RUN_ENV] == parent_run_id


def test_jobs_need_nothing_from_the_launching_process_environment(tmp_path, own_environ):
    """So jobs on another machine (a remote Ray cluster) find their parent too."""
    start_sweep(tmp_path)
    assert PARENT_RUN_ENV not in os.environ


def test_a_parallel_job_carries_its_thread_counts_in_its_own_config(tmp_path, own_environ):
    for name in THREAD_ENV:
        os.environ.pop(name, None)
    _, job = start_sweep(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=64")
    assert {name: job.hydra.job.env_set[name] for name in THREAD_ENV} == dict.fromkeys(
        THREAD_ENV, "1"
    )


def test_an_env_set_of_the_user_wins_over_the_sweeps_share(tmp_path, own_environ):
    _, job = start_sweep(
        tmp_path,
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=64",
        "+hydra.job.env_set.OMP_NUM_THREADS=7",
    )
    assert job.hydra.job.env_set["OMP_NUM_THREADS"] == "7"


def test_the_ray_launcher_without_ray_names_the_extra_to_install(monkeypatch):
    register()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/launcher=ray"], return_hydra_config=True)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)
    with pytest.raises(LauncherMissing, match=r'pip install -e "\.\[ray\]"'):
        require_launcher(cfg.hydra.launcher, "ray")


@pytest.fixture(scope="module")
def ray_sweep(tmp_path_factory):
    """Two jobs as tasks of a local Ray with 2 CPUs, whose workers hold a stale parent run id
    in their environment: like a remote machine's, it is not the launching process's."""
    if importlib.util.find_spec(RAY_LAUNCHER) is None:
        pytest.skip('the Ray launcher is not installed (pip install -e ".[ray]")')
    root = tmp_path_factory.mktemp("ray")
    done = sweep(
        root,
        "hydra/launcher=ray",
        "+hydra.launcher.ray.init.num_cpus=2",
        f"++hydra.launcher.ray.init.runtime_env={{env_vars:{{{PARENT_RUN_ENV}:stale}}}}",
        "model.filters=2,3",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return runs_of(root)


def test_a_ray_sweep_finishes_both_jobs_under_one_parent(ray_sweep):
    jobs = children(ray_sweep)
    (parent,) = [r for r in ray_sweep if r.data.tags.get("handrec.sweep") == "parent"]
    assert sorted(r.info.status for r in jobs) == ["FINISHED", "FINISHED"]
    assert {r.data.tags["mlflow.parentRunId"] for r in jobs} == {parent.info.run_id}
