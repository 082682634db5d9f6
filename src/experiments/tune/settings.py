"""The search settings (conf/hparams_search/*.yaml), composed and checked before Optuna, MLflow or
TensorFlow load: a bad preset or value is one line and exit 2 at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import MissingConfigException
from omegaconf import MISSING, OmegaConf

from experiments import schema
from experiments.tune.space import GROUP, ParamSpec
from handrec.errors import HandrecError, require

DEFAULT_PRESET = "optuna"


TPE = "optuna.samplers.TPESampler"


MEDIAN = "optuna.pruners.MedianPruner"


class SearchError(HandrecError):
    """The search cannot start, or stopped for good."""


@dataclass
class SearchSpec:
    """conf/hparams_search/*.yaml: a study, how to sample and prune it, and its space."""

    study_name: str = "handrec"
    storage: str = MISSING  # an Optuna storage URL; sqlite keeps the study across invocations
    n_trials: int = 20  # complete + pruned trials the study should reach, over all invocations
    max_failures: int = 3  # crashed trials one invocation (or worker) tolerates before it stops
    timeout: float | None = None  # seconds one invocation may start new trials for
    workers: int = 1  # trials at once, each worker a process drawing from the shared study
    seed: int = 0  # of the sampler; a resumed study continues from another seed
    sampler: dict[str, Any] = field(default_factory=lambda: {"_target_": TPE})
    pruner: dict[str, Any] = field(default_factory=lambda: {"_target_": MEDIAN})
    # config key → its range; null takes a key of a preset out of the space
    space: dict[str, ParamSpec | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.space = {key: spec for key, spec in self.space.items() if spec is not None}
        require(self.n_trials >= 1, f"{GROUP}.n_trials must be >= 1, got {self.n_trials}")
        require(
            self.max_failures >= 0, f"{GROUP}.max_failures must be >= 0, got {self.max_failures}"
        )
        require(bool(self.space), f"{GROUP}.space is empty: name at least one config key")
        require(self.workers >= 1, f"{GROUP}.workers must be >= 1, got {self.workers}")


def compose_search(preset: str, overrides: Sequence[str]) -> SearchSpec:
    """conf/hparams_search/<preset>.yaml with overrides, as checked settings."""
    register()
    try:
        with initialize_config_dir(str(schema.PROJECT_ROOT / "conf"), version_base="1.3"):
            cfg = compose(f"{GROUP}/{preset}", overrides=list(overrides))
    except MissingConfigException as err:
        presets = sorted(p.stem for p in (schema.PROJECT_ROOT / "conf" / GROUP).glob("*.yaml"))
        raise SearchError(
            f"no search preset {GROUP}={preset}: choose one of {', '.join(presets)}"
        ) from err
    return OmegaConf.to_object(cfg[GROUP])


def register() -> None:
    """The project's schemas, plus the search settings' schema for the presets."""
    schema.register()
    ConfigStore.instance().store(group=f"schema/{GROUP}", name="search", node=SearchSpec)
