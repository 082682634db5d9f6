"""Building a model from its params: the builders, found by the type of the params."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

from handrec.models.cnn import build_cnn
from handrec.models.params import PARAMS, CnnParams, ResNetParams, SeedCnnParams
from handrec.models.resnet import build_resnet
from handrec.models.seed_cnn import build_seed_cnn

BUILDERS: dict[type, Callable[[Any, int], keras.Model]] = {
    SeedCnnParams: build_seed_cnn,
    CnnParams: build_cnn,
    ResNetParams: build_resnet,
}


def build_model(params: Any, n_classes: int) -> keras.Model:
    """Build the architecture that `params` (a registered params dataclass) describes."""
    builder = BUILDERS.get(type(params))
    if builder is None:
        known = ", ".join(sorted(PARAMS))
        raise TypeError(f"{type(params).__name__} is not a registered model (known: {known})")
    return builder(params, n_classes)
