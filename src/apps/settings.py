"""The page's settings, read from the environment so `make app` and the tests can set them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from handrec.errors import ConfigError
from handrec.preprocess import MAX_PIXELS

MODEL_ENV = "HANDREC_MODEL"
MAX_PIXELS_ENV = "HANDREC_MAX_PIXELS"
EXPERIMENT_ENV = "HANDREC_EXPERIMENT"
DEFAULT_EXPERIMENT = "handrec"


@dataclass(frozen=True)
class Settings:
    """model: a .keras file (or its folder) to start with, "" to pick one from MLflow;
    max_pixels: larger images are refused before decoding;
    experiment: the MLflow experiment whose runs are offered first."""

    model: str = ""
    max_pixels: int = MAX_PIXELS
    experiment: str = DEFAULT_EXPERIMENT


def from_env(environ: Mapping[str, str] = os.environ) -> Settings:
    """Settings from HANDREC_MODEL, HANDREC_MAX_PIXELS and HANDREC_EXPERIMENT."""
    given = environ.get(MAX_PIXELS_ENV, str(MAX_PIXELS))
    limit = given.replace("_", "")
    if not limit.isdigit() or int(limit) < 1:
        raise ConfigError(f"{MAX_PIXELS_ENV} must be a positive whole number, got {given!r}")
    return Settings(
        model=environ.get(MODEL_ENV, "").strip(),
        max_pixels=int(limit),
        experiment=environ.get(EXPERIMENT_ENV, DEFAULT_EXPERIMENT),
    )
