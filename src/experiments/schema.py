"""Structured-config schemas, so a wrong key or type fails when Hydra composes the config.

The schemas of sources, models and training are handrec's own dataclasses: their
`__post_init__` checks ranges when `settings()` turns the config into objects, before any data
is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from handrec.data.sources import SOURCES
from handrec.data.split import SplitSpec
from handrec.errors import ConfigError, first_line, require
from handrec.labels import DIGITS, UPPERCASE
from handrec.models.params import PARAMS
from handrec.training.spec import TrainSpec

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BALANCING = ("none", "undersample", "class_weight")
# What composing a config raises on a user's mistake (an unknown key, choice or type): a usage
# error, one line and exit 2, like handrec's ConfigError.
CONFIG_ERRORS = (HydraException, OmegaConfBaseException)


@dataclass
class TrainingExtra:
    """Sources whose samples join the training part only, after `data.sources` are split: the
    validation and test parts stay exactly those of `data.sources` alone, so scores remain
    comparable with runs without them. `classes` takes only the sources' classes it lists, each
    as the run's class it names, e.g. {o: O}: lowercase letters written like their capitals as
    more capitals; empty: every class of the run, by its own name."""

    sources: dict[str, Any] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)


@dataclass
class DataConfig:
    """Named sources, joined onto the run's label space by class name, then split."""

    name: str = MISSING
    sources: dict[str, Any] = field(default_factory=dict)
    split: SplitSpec = field(default_factory=SplitSpec)
    # A cap on samples per class (null: all), for quick runs on large sets.
    max_per_class: int | None = None
    # none; undersample: every class cut to the size of the smallest one; class_weight: each
    # class's loss weighted by n_samples / (n_classes * its count) in training.
    balance: str = "none"
    # Where prepared data sets are kept; null: $HANDREC_CACHE, else ~/.cache/handrec.
    cache_dir: str | None = None
    # More training samples, kept out of validation and test (TrainingExtra).
    train_extra: TrainingExtra = field(default_factory=TrainingExtra)

    def __post_init__(self) -> None:
        require(
            self.max_per_class is None or self.max_per_class >= 1,
            f"data.max_per_class must be null or >= 1, got {self.max_per_class}",
        )
        require(
            self.balance in BALANCING,
            f"data.balance must be one of {', '.join(BALANCING)}, got {self.balance!r}",
        )


@dataclass
class TrackingConfig:
    """Where MLflow records runs; `artifact_root` applies to local (sqlite/file) stores only."""

    uri: str = MISSING
    experiment: str = "handrec"
    artifact_root: str | None = None
    # MLflow's sampler of CPU, memory, disk (and GPU) use, as a run's system metrics.
    system_metrics: bool = True


@dataclass
class Config:
    seed: int = 0
    classes: str = DIGITS + UPPERCASE
    data: DataConfig = MISSING
    model: Any = MISSING
    train: TrainSpec = MISSING
    tracking: TrackingConfig = MISSING
    # Where interrupted trainings keep their checkpoints, one folder per config.
    checkpoints: str = MISSING


def register() -> None:
    """Put every schema in Hydra's ConfigStore under `schema/<group>/<name>`; idempotent."""
    store = ConfigStore.instance()
    store.store(name="config_schema", node=Config)
    store.store(group="schema/data", name="data", node=DataConfig)
    store.store(group="schema/train", name="train", node=TrainSpec)
    store.store(group="schema/tracking", name="tracking", node=TrackingConfig)
    for name, spec in SOURCES.items():
        store.store(group="schema/source", name=name, node=spec)
    for name, params in PARAMS.items():
        store.store(group="schema/model", name=name, node=params)
    OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT), replace=True)
    OmegaConf.register_new_resolver("config_groups", config_groups, replace=True)


def config_groups() -> str:
    """The groups of conf/ and their options, one line each, for `--help`: Hydra's own list
    also shows the schemas in the ConfigStore, which are not choices."""
    folders = sorted(p for p in (PROJECT_ROOT / "conf").iterdir() if p.is_dir())
    return "\n".join(
        f"{folder.name}: {', '.join(sorted(f.stem for f in folder.glob('*.yaml')))}"
        for folder in folders
        if folder.name != "hydra"
    )


def compose_config(overrides: Sequence[str] = (), with_hydra: bool = False) -> DictConfig:
    """The run config exactly as `python -m experiments.run <overrides>` composes it, for
    the tools that need it without Hydra's entrypoint (sweep drivers, the UI, the data CLI);
    `with_hydra` keeps Hydra's own settings under `hydra`."""
    register()
    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=with_hydra)


def as_config_error(error: BaseException) -> ConfigError:
    """Hydra's or OmegaConf's error about a config as one line: what was wrong, why (the
    error it arose from) and, in brackets, the rest (the available options); not Hydra's
    config search path."""
    text = str(error).split("Config search path")[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()] or [type(error).__name__]
    if isinstance(error.__cause__, OmegaConfBaseException):
        lines[0] = f"{lines[0].rstrip('.')}: {first_line(error.__cause__)}"
    rest = f" ({' '.join(lines[1:])})" if len(lines) > 1 else ""
    return ConfigError(lines[0] + rest)


def settings(cfg: DictConfig) -> Config:
    """The composed config as typed objects; raises handrec's ConfigError on a bad value."""
    return OmegaConf.to_object(cfg)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} → {"a.b": 1}: a config's keys as MLflow params and search spaces name
    them."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat
