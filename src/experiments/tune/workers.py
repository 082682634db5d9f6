"""The processes that run a study's trials, sharing it through its storage."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

import joblib
from omegaconf import OmegaConf

from experiments.sweep import THREAD_ENV, share_cores
from experiments.tune.space import GROUP
from experiments.tune.study import (
    FailureBudget,
    RecordBest,
    SearchError,
    SearchSpec,
    load_study,
    objective,
    optimize,
)


def run_workers(
    search: SearchSpec, overrides: Sequence[str], parent_run_id: str
) -> list[FailureBudget]:
    """Trials drawn by this process, or by `search.workers` processes at once (joblib's on this
    machine, or Ray tasks), each with its share of the cores. They share the study through its
    storage, which on a cluster must be a database every node reaches."""
    if search.workers == 1:
        return [worker(search, overrides, parent_run_id, 0)]
    if search.launcher == "ray":
        return on_ray(search, overrides, parent_run_id)
    share_cores(OmegaConf.create({"n_jobs": search.workers}))
    return joblib.Parallel(n_jobs=search.workers)(
        joblib.delayed(worker)(search, overrides, parent_run_id, index)
        for index in range(search.workers)
    )


def on_ray(search: SearchSpec, overrides: Sequence[str], parent_run_id: str) -> list[FailureBudget]:
    """Workers as Ray tasks, the cluster's cores divided among them."""
    # Kept beside Hydra's Ray launcher and Optuna's storage, which do not do this job: the
    # launcher runs the fixed list of jobs a Hydra sweeper made before any ran, whereas a
    # study's next trial is sampled from the results so far; Optuna's storage lets processes
    # share one study but starts none on a cluster's nodes, and separate invocations there would
    # each open their own MLflow parent run (the driver here opens the one parent).
    if importlib.util.find_spec("ray") is None:
        raise SearchError(
            f"{GROUP}.launcher=ray needs the optional dependencies 'ray': pip install -e \".[ray]\""
        )
    import ray

    ray.init(address=search.ray_address, ignore_reinit_error=True, log_to_driver=False)
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)) // search.workers)
        task = ray.remote(worker).options(
            num_cpus=cpus, runtime_env={"env_vars": dict.fromkeys(THREAD_ENV, str(cpus))}
        )
        return ray.get(
            [task.remote(search, overrides, parent_run_id, i) for i in range(search.workers)]
        )
    finally:
        ray.shutdown()


def worker(
    search: SearchSpec, overrides: Sequence[str], parent_run_id: str, index: int
) -> FailureBudget:
    """Runs trials of the study until it is done."""
    trial_run = objective(overrides, search.space, parent_run_id)
    return optimize(load_study(search, index), trial_run, search, [RecordBest(parent_run_id)])
