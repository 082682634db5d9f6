"""Many runs at once: the parent run that groups them (a --multirun sweep's jobs, a search's
trials, repeats), and what a sweep sets up before its jobs start.

A sweep's jobs may run in other processes (joblib) or on other machines (Ray); they find their
parent, and their share of the cores, in environment variables that their own config sets
(`hydra.job.env_set`), so that no job depends on inheriting the launching process's environment.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import joblib
import mlflow
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from mlflow.entities import Run
from omegaconf import DictConfig, OmegaConf

from experiments import cli
from experiments.lifecycle import PARENT_TAG, close_parent, hold_open, process_tags
from experiments.record import log_parent_params, summarise_parent
from experiments.schema import TrackingConfig
from experiments.tracking import PARENT_RUN_ENV, SWEPT_KEYS_ENV, connect
from handrec.errors import HandrecError

# Hydra launcher plugins that are optional extras of this project: plugin package → extra.
OPTIONAL_LAUNCHERS = {"hydra_plugins.hydra_ray_launcher": "ray"}
THREAD_ENV = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


class LauncherMissing(HandrecError):
    """The chosen Hydra launcher's plugin is not installed."""


@dataclass(frozen=True)
class ParentRun:
    """An MLflow run whose children are the runs of one sweep, search or repeat."""

    run_id: str

    @classmethod
    def open(cls, experiment_id: str, name: str, tags: Mapping[str, str]) -> ParentRun:
        run = mlflow.MlflowClient().create_run(
            experiment_id, run_name=name, tags={PARENT_TAG: "parent", **tags, **process_tags()}
        )
        return cls(run.info.run_id)

    @classmethod
    def reopen(cls, run_id: str) -> ParentRun:
        """The parent of an earlier, interrupted invocation, running again."""
        client = mlflow.MlflowClient()
        client.update_run(run_id, status="RUNNING")
        for key, value in process_tags().items():
            client.set_tag(run_id, key, value)
        return cls(run_id)

    def children(self) -> list[Run]:
        client = mlflow.MlflowClient()
        return client.search_runs(
            [client.get_run(self.run_id).info.experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{self.run_id}'",
        )

    def children_status(self) -> str:
        """FAILED when a child failed, KILLED when one was cut off, else FINISHED."""
        statuses = {child.info.status for child in self.children()}
        if "FAILED" in statuses:
            return "FAILED"
        return "KILLED" if statuses & {"RUNNING", "KILLED"} else "FINISHED"

    def close(self, status: str) -> None:
        """Counts the children in tags, sums them up (`summarise_parent`) and ends the run
        with `status`."""
        children = self.children()
        statuses = [child.info.status for child in children]
        client = mlflow.MlflowClient()
        client.set_tag(self.run_id, "jobs", str(len(statuses)))
        client.set_tag(self.run_id, "jobs_failed", str(statuses.count("FAILED")))
        summarise_parent(self.run_id, children, client.get_run(self.run_id).info.run_name)
        client.set_terminated(self.run_id, status)


class SweepParentRun(Callback):
    """Prepares a --multirun sweep: checks its launcher, shares the cores among parallel jobs,
    and opens the parent run before the first job and closes it after the last. Jobs get the
    parent's id and their threads in their own config (`set_in_jobs`).

    The parent ends as `lifecycle.ending_parent` ends it: FAILED when a child failed, KILLED
    when the sweep was interrupted. Hydra tells a callback when a sweep ends, not when it is cut
    off: `parents.closing_parents` around the entrypoint ends a parent left open.
    """

    def __init__(self) -> None:
        self.parent: ParentRun | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            require_launcher(config.hydra.launcher, config.hydra.runtime.choices["hydra/launcher"])
        except LauncherMissing as err:
            print(f"error: {err}", file=sys.stderr)  # Hydra turns a callback's exceptions
            sys.exit(cli.EXIT_USAGE)  # into warnings
        threads = share_cores(config.hydra.launcher)
        tracking = TrackingConfig(**OmegaConf.to_container(config.tracking, resolve=True))
        sweep_dir = os.path.basename(str(config.hydra.sweep.dir))
        experiment_id = connect(tracking)
        overrides = list(config.hydra.overrides.task)
        self.parent = ParentRun.open(
            experiment_id, f"sweep {sweep_dir}", {"overrides": " ".join(overrides)}
        )
        hold_open(self.parent, experiment_id)
        swept = ",".join(swept_keys(overrides))
        set_in_jobs(config, {**threads, PARENT_RUN_ENV: self.parent.run_id, SWEPT_KEYS_ENV: swept})
        log_parent_params(self.parent.run_id, overrides)  # after: Hydra only warns if it fails

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self.close()

    def close(self) -> None:
        """Ends the parent by its children; idempotent."""
        if self.parent is not None:
            close_parent(self.parent.run_id)


def swept_keys(overrides: list[str]) -> list[str]:
    """The keys a sweep varies (`model.filters=8,16`, `range(…)`, `choice(…)`): its jobs are
    named by these alone."""
    parsed = OverridesParser.create().parse_overrides(overrides)
    return [o.key_or_group for o in parsed if o.is_sweep_override()]


def require_launcher(launcher: DictConfig, choice: str) -> None:
    """Fails in one line, naming the extra to install, when a launcher's plugin is missing."""
    package = ".".join(str(launcher._target_).split(".")[:2])
    if package in OPTIONAL_LAUNCHERS and importlib.util.find_spec(package) is None:
        extra = OPTIONAL_LAUNCHERS[package]
        raise LauncherMissing(
            f"hydra/launcher={choice} needs the optional dependencies '{extra}': "
            f'pip install -e ".[{extra}]"'
        )


def set_in_jobs(config: DictConfig, env: Mapping[str, str]) -> None:
    """Sets environment variables in every job's own process, wherever the launcher runs it.

    Every launcher composes each job's config afresh from the sweep's Hydra overrides, and the
    process that runs the job (this one, a joblib worker, a Ray task on another machine) sets
    its `hydra.job.env_set` around the task. So the variables go in as overrides: the only way
    to jobs that do not inherit this process's environment. A name the user sets there is kept.
    """
    for name, value in env.items():
        if name not in config.hydra.job.env_set:
            config.hydra.overrides.hydra.append(f"++hydra.job.env_set.{name}='{value}'")


def share_cores(launcher: DictConfig) -> dict[str, str]:
    """Gives each parallel job its share of the cores as TensorFlow's (and OpenMP's) threads;
    returns the variables, for `set_in_jobs`.

    Without it every job sizes its thread pools for the whole machine and they fight over the
    cores. They are also set here, as workers on this machine inherit them before they import
    anything (OpenMP reads them when it loads); a value the user set is kept.
    """
    threads = threads_per_job(launcher, joblib.cpu_count())
    if threads is None:
        return {}
    return {name: os.environ.setdefault(name, str(threads)) for name in THREAD_ENV}


def threads_per_job(launcher: DictConfig, cpus: int) -> int | None:
    """joblib: the cores divided among its workers; Ray: each task's num_cpus (Ray reserves
    one core a task unless told otherwise); else None."""
    if "n_jobs" in launcher:
        n_jobs = launcher.n_jobs
        workers = n_jobs if n_jobs > 0 else cpus + 1 + n_jobs  # joblib's -1: one per core
        return max(1, cpus // max(1, workers))
    if "ray" not in launcher:
        return None
    return max(1, int(OmegaConf.select(launcher, "ray.remote.num_cpus", default=1)))
