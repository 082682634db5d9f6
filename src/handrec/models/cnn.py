"""A configurable VGG-style CNN: blocks of convolutions, each block ending in a pooling."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from handrec.errors import require
from handrec.models.inputs import pixel_input
from handrec.models.layers import class_probabilities, conv_bn_relu

POOLINGS = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}


@dataclass
class CnnParams:
    """Block i has `convs_per_block` convolutions of `filters * width_multiplier**i` channels,
    then a 2×2 pooling (28 → 14 → 7 → 3 → 1 pixels, hence at most 4 blocks)."""

    name: str = "cnn"
    blocks: int = 2
    filters: int = 32
    width_multiplier: float = 2.0
    convs_per_block: int = 2
    kernel_size: int = 3
    batch_norm: bool = True
    pooling: str = "max"
    dropout: float = 0.25  # after every block's pooling
    dense_units: int = 128  # a hidden dense layer before the output; 0 for none
    global_pool: bool = False  # average each channel instead of flattening the last block
    head_dropout: float = 0.25  # before the output layer
    bn_momentum: float = 0.9

    def __post_init__(self) -> None:
        require(1 <= self.blocks <= 4, f"model.blocks must be in 1..4, got {self.blocks}")
        require(self.filters >= 1, f"model.filters must be >= 1, got {self.filters}")
        require(
            1 <= self.width_multiplier <= 4,
            f"model.width_multiplier must be in [1, 4], got {self.width_multiplier}",
        )
        require(
            1 <= self.convs_per_block <= 8,
            f"model.convs_per_block must be in 1..8, got {self.convs_per_block}",
        )
        require(
            1 <= self.kernel_size <= 7, f"model.kernel_size must be in 1..7, got {self.kernel_size}"
        )
        require(
            self.pooling in POOLINGS,
            f"model.pooling must be one of {', '.join(POOLINGS)}, got {self.pooling!r}",
        )
        require(0 <= self.dropout < 1, f"model.dropout must be in [0, 1), got {self.dropout}")
        require(self.dense_units >= 0, f"model.dense_units must be >= 0, got {self.dense_units}")
        require(
            0 <= self.head_dropout < 1,
            f"model.head_dropout must be in [0, 1), got {self.head_dropout}",
        )
        require(
            0 <= self.bn_momentum < 1,
            f"model.bn_momentum must be in [0, 1), got {self.bn_momentum}",
        )

    def block_filters(self, block: int) -> int:
        return round(self.filters * self.width_multiplier**block)


def build_cnn(params: CnnParams, n_classes: int) -> keras.Model:
    inputs, x = pixel_input()
    for block in range(params.blocks):
        for _ in range(params.convs_per_block):
            x = _conv(x, params.block_filters(block), params)
        x = POOLINGS[params.pooling](2)(x)
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
