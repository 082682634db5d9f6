"""Building blocks the architectures share."""

from __future__ import annotations

import keras


def class_probabilities(x: keras.KerasTensor, n_classes: int) -> keras.KerasTensor:
    """The softmax output layer, always float32: under a mixed-precision policy a float16
    softmax saturates and its loss becomes inaccurate."""
    return keras.layers.Dense(n_classes, activation="softmax", dtype="float32")(x)


def conv_bn_relu(
    x: keras.KerasTensor,
    filters: int,
    kernel_size: int,
    bn_momentum: float,
    strides: int = 1,
    relu: bool = True,
) -> keras.KerasTensor:
    """Convolution → batch norm (→ ReLU); the conv has no bias, batch norm supplies it."""
    x = keras.layers.Conv2D(filters, kernel_size, strides, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization(momentum=bn_momentum)(x)
    return keras.layers.ReLU()(x) if relu else x
