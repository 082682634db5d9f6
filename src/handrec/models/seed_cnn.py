"""The original project's CNN, layer for layer (855,556 parameters at 36 classes)."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from handrec.errors import require
from handrec.models.inputs import pixel_input
from handrec.models.layers import class_probabilities


@dataclass
class SeedCnnParams:
    """Every number of the original architecture, so each one can be swept."""

    name: str = "seed_cnn"
    filters: int = 32
    kernel_size: int = 5
    pool_size: int = 2
    dropout: float = 0.25
    dense_units: int = 256
    # Keras' default 0.99 (the original's) needs ~500 steps before the running statistics used
    # at inference fit; on the small embedded sample the model then predicts one class. Only
    # inference-time statistics depend on it: training updates are the same.
    bn_momentum: float = 0.9

    def __post_init__(self) -> None:
        require(self.filters >= 1, f"model.filters must be >= 1, got {self.filters}")
        require(
            1 <= self.kernel_size <= 12,
            f"model.kernel_size must be in 1..12, got {self.kernel_size}",
        )
        require(1 <= self.pool_size <= 8, f"model.pool_size must be in 1..8, got {self.pool_size}")
        require(0 <= self.dropout < 1, f"model.dropout must be in [0, 1), got {self.dropout}")
        require(self.dense_units >= 1, f"model.dense_units must be >= 1, got {self.dense_units}")
        require(
            0 <= self.bn_momentum < 1,
            f"model.bn_momentum must be in [0, 1), got {self.bn_momentum}",
        )


def build_seed_cnn(params: SeedCnnParams, n_classes: int) -> keras.Model:
    """Conv-BN-Conv-BN-MaxPool-Dropout-BN-Flatten-Dense-Dense, as the original code builds it."""
    inputs, x = pixel_input()
    x = keras.layers.Conv2D(params.filters, params.kernel_size, activation="relu")(x)
    x = keras.layers.BatchNormalization(momentum=params.bn_momentum)(x)
    x = keras.layers.Conv2D(params.filters, params.kernel_size, activation="relu")(x)
    x = keras.layers.BatchNormalization(momentum=params.bn_momentum)(x)
    x = keras.layers.MaxPooling2D(params.pool_size)(x)
    x = keras.layers.Dropout(params.dropout)(x)
    x = keras.layers.BatchNormalization(momentum=params.bn_momentum)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(params.dense_units, activation="relu")(x)
    return keras.Model(inputs, class_probabilities(x, n_classes), name=params.name)
