"""Model builders: a registry from config name to (params dataclass, builder)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from handrec.models.cnn import CnnParams, build_cnn
from handrec.models.cost import flops
from handrec.models.resnet import ResNetParams, build_resnet
from handrec.models.seed_cnn import SeedCnnParams, build_seed_cnn

MODELS: dict[str, tuple[type, Callable[..., keras.Model]]] = {
    "seed_cnn": (SeedCnnParams, build_seed_cnn),
    "cnn": (CnnParams, build_cnn),
    "resnet": (ResNetParams, build_resnet),
}

__all__ = ["MODELS", "build_model", "flops"]


def build_model(params: Any, n_classes: int) -> keras.Model:
    """Build the architecture that `params` (a registered params dataclass) describes."""
    for params_type, builder in MODELS.values():
        if isinstance(params, params_type):
            return builder(params, n_classes)
    known = ", ".join(sorted(MODELS))
    raise TypeError(f"{type(params).__name__} is not a registered model (known: {known})")
