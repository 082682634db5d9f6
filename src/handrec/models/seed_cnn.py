"""The original project's CNN, layer for layer (855,556 parameters at 36 classes)."""

from __future__ import annotations

import keras

from handrec.models.inputs import pixel_input
from handrec.models.layers import class_probabilities
from handrec.models.params import SeedCnnParams


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
