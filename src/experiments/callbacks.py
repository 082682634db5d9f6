"""The Hydra callbacks conf/config.yaml names, light to import.

Hydra instantiates its callbacks for every run, a single one included, before the task checks
its config. The sweep machinery they hand over to (experiments.sweep) loads MLflow, so it is
imported only when a --multirun starts: a config error, --help or --cfg job never waits for it.
"""

from __future__ import annotations

from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class SweepParentRun(Callback):
    """experiments.sweep.SweepParentRun (the parent run of a --multirun sweep), created when a
    multirun starts."""

    def __init__(self) -> None:
        self.sweep: Callback | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from experiments import sweep

        self.sweep = sweep.SweepParentRun()
        self.sweep.on_multirun_start(config, **kwargs)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self.sweep is not None:
            self.sweep.on_multirun_end(config, **kwargs)
