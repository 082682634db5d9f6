"""The single entrypoint: compose a config, train, evaluate on test, record it all in MLflow.

python -m experiments.run model.filters=64 train.epochs=3
python -m experiments.run --multirun model.filters=16,32,64

The config is checked before anything else (a typo or a value out of range is one line and exit
2); TensorFlow and MLflow load only once it passes, with experiments.job, which does the run.
"""

from __future__ import annotations

import os
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from experiments import cli, parents, schema
from handrec.errors import HandrecError, first_line

schema.register()


@hydra.main(version_base="1.3", config_path="../../conf", config_name="config")
def main(cfg: DictConfig) -> float:
    """Hydra's task function; returns the objective sweepers maximise (best val accuracy)."""
    try:
        schema.settings(cfg)
        from experiments import job, tracking  # here, the config checked: they load TF, MLflow

        return job.run(cfg, job_name(), os.environ.get(tracking.PARENT_RUN_ENV))
    except HandrecError as err:
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            raise
        print(f"error: {first_line(err)}", file=sys.stderr)
        sys.exit(cli.EXIT_USAGE)


def job_name() -> str:
    """The job's own overrides ("model.filters=64,train.epochs=3"), or "default"."""
    overrides = [o for o in HydraConfig.get().overrides.task if not o.startswith("tracking.")]
    return ",".join(overrides) or "default"


def entry() -> None:
    """`main`, with the sweep parents it opens ended however it ends."""
    with parents.closing_parents():
        main()


if __name__ == "__main__":
    cli.cli(entry)
