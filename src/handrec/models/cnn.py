"""A configurable VGG-style CNN: blocks of convolutions, each block ending in a pooling."""

from __future__ import annotations

import keras

from handrec.models.inputs import pixel_input
from handrec.models.layers import class_probabilities, conv_bn_relu
from handrec.models.params import CnnParams

POOLING_LAYERS = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}


def build_cnn(params: CnnParams, n_classes: int) -> keras.Model:
    inputs, x = pixel_input()
    for block in range(params.blocks):
        for _ in range(params.convs_per_block):
            x = _conv(x, params.block_filters(block), params)
        x = POOLING_LAYERS[params.pooling](2)(x)
        if params.dropout:
            x = keras.layers.Dropout(params.dropout)(x)
    x = (
        keras.layers.GlobalAveragePooling2D()(x)
        if params.global_pool
        else keras.layers.Flatten()(x)
    )
    if params.dense_units:
        x = keras.layers.Dense(params.dense_units, activation="relu")(x)
    if params.head_dropout:
        x = keras.layers.Dropout(params.head_dropout)(x)
    return keras.Model(inputs, class_probabilities(x, n_classes), name=params.name)


def _conv(x: keras.KerasTensor, filters: int, params: CnnParams) -> keras.KerasTensor:
    if params.batch_norm:
        return conv_bn_relu(x, filters, params.kernel_size, params.bn_momentum)
    return keras.layers.Conv2D(filters, params.kernel_size, padding="same", activation="relu")(x)
