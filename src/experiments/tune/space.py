"""The search space: one dimension per config key, checked against the config before any
trial runs, and sampled from an Optuna trial.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

from experiments import schema
from experiments.schema import compose_config, flatten
from handrec.errors import ConfigError, HandrecError, first_line, require

GROUP = "hparams_search"


TYPES = ("float", "int", "categorical")


_ABSENT = object()


@dataclass
class ParamSpec:
    """One dimension of the space: a float or int in [low, high] (optionally on a log scale or a
    grid of `step`), or one of `choices`."""

    type: str = MISSING
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: list[Any] | None = None


def check_space(space: dict[str, ParamSpec], base: DictConfig, overrides: Sequence[str]) -> None:
    """Fails before any trial on an unknown key, a malformed range, or an end of a range (or a
    choice) that the config refuses; the cheap checks of every key come first."""
    for key, spec in space.items():
        check_key(key, base)
        check_range(key, spec)
    for key, spec in space.items():
        check_ends(key, spec, base, overrides)


def check_ends(key: str, spec: ParamSpec, base: DictConfig, overrides: Sequence[str]) -> None:
    for value in ends(spec):
        try:
            schema.settings(with_value(base, key, value, overrides))
        except (HandrecError, *schema.CONFIG_ERRORS) as err:
            raise ConfigError(
                f"{GROUP}.space.{key}: {value!r} is refused: {first_line(err)}"
            ) from err


def with_value(base: DictConfig, key: str, value: Any, overrides: Sequence[str]) -> DictConfig:
    """The config a trial with `key=value` gets: a value set on a copy of `base` (what Hydra
    composes for that override, without a compose's tenth of a second per end), a config
    group's option composed."""
    if OmegaConf.is_config(OmegaConf.select(base, key)):
        return compose_config([*overrides, as_override(key, value)])
    cfg = copy.deepcopy(base)
    OmegaConf.update(cfg, key, value, merge=False)
    return cfg


def check_key(key: str, base: DictConfig) -> None:
    if OmegaConf.select(base, key, default=_ABSENT) is _ABSENT:
        keys = flatten(OmegaConf.to_container(base, resolve=False)).keys()
        close = difflib.get_close_matches(key, keys, n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"{GROUP}.space.{key} is not a key of the config{hint}")


def check_range(key: str, spec: ParamSpec) -> None:
    name = f"{GROUP}.space.{key}"
    require(spec.type in TYPES, f"{name}.type must be one of {', '.join(TYPES)}, got {spec.type}")
    if spec.type == "categorical":
        require(bool(spec.choices), f"{name}: categorical needs a non-empty list of choices")
        require(spec.low is None and spec.high is None, f"{name}: categorical takes no low/high")
        return
    require(spec.choices is None, f"{name}: {spec.type} takes low/high, not choices")
    require(spec.low is not None and spec.high is not None, f"{name}: needs both low and high")
    require(spec.low < spec.high, f"{name}: low must be < high, got [{spec.low}, {spec.high}]")
    require(not spec.log or spec.low > 0, f"{name}: a log scale needs low > 0, got {spec.low}")
    require(not (spec.log and spec.step), f"{name}: log and step cannot be combined")
    require(spec.step is None or spec.step > 0, f"{name}: step must be > 0, got {spec.step}")
    if spec.type == "int":
        ints = [v for v in (spec.low, spec.high, spec.step) if v is not None]
        require(all(float(v).is_integer() for v in ints), f"{name}: int needs whole numbers")


def ends(spec: ParamSpec) -> list[Any]:
    """The values worth checking against the config: a range's ends, or every choice."""
    if spec.type == "categorical":
        return list(spec.choices)
    bounds = [spec.low, spec.high]
    return [int(v) for v in bounds] if spec.type == "int" else bounds


def as_override(key: str, value: Any) -> str:
    """A Hydra override; JSON's literals (numbers, "strings", true, null) are Hydra's too."""
    return f"{key}={json.dumps(value)}"
