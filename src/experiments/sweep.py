"""Groups a --multirun sweep's jobs under one MLflow parent run."""

from __future__ import annotations

import atexit
import os
from typing import Any

import mlflow
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from experiments.schema import TrackingConfig
from experiments.tracking import PARENT_RUN_ENV, connect


class SweepParentRun(Callback):
    """Opens the parent run before the first job and closes it after the last.

    Jobs find the parent through an environment variable, which also reaches launcher
    subprocesses. The parent ends FAILED when a child failed, KILLED when the sweep was cut off.
    """

    def __init__(self) -> None:
        self.run_id: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        tracking = TrackingConfig(**OmegaConf.to_container(config.tracking, resolve=True))
        experiment_id = connect(tracking)
        sweep_dir = os.path.basename(str(config.hydra.sweep.dir))
        overrides = " ".join(config.hydra.overrides.task)
        run = mlflow.MlflowClient().create_run(
            experiment_id,
            run_name=f"sweep {sweep_dir}",
            tags={"handrec.sweep": "parent", "overrides": overrides},
        )
        self.run_id = run.info.run_id
        os.environ[PARENT_RUN_ENV] = self.run_id
        atexit.register(self.close)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        self.close()

    def close(self) -> None:
        """Idempotent: runs at the sweep's end, or at exit when a job error ended it early."""
        if self.run_id is None:
            return
        client = mlflow.MlflowClient()
        children = client.search_runs(
            [client.get_run(self.run_id).info.experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{self.run_id}'",
        )
        statuses = [child.info.status for child in children]
        client.set_tag(self.run_id, "jobs", str(len(statuses)))
        client.set_tag(self.run_id, "jobs_failed", str(statuses.count("FAILED")))
        if "FAILED" in statuses:
            status = "FAILED"
        elif "RUNNING" in statuses or "KILLED" in statuses:
            status = "KILLED"
        else:
            status = "FINISHED"
        client.set_terminated(self.run_id, status)
        os.environ.pop(PARENT_RUN_ENV, None)
        self.run_id = None
