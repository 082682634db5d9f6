"""A small ResNet: residual blocks of two 3×3 convolutions, in stages of doubling width."""

from __future__ import annotations

from dataclasses import dataclass

import keras

from handrec.errors import require
from handrec.models.inputs import pixel_input
from handrec.models.layers import class_probabilities, conv_bn_relu


@dataclass
class ResNetParams:
    """Stage i has `blocks_per_stage` residual blocks of `filters * 2**i` channels; every
    stage after the first halves the resolution. `stem_stride` 2 starts the stages at 14×14
    instead of 28×28, a quarter of the arithmetic for little accuracy on 28×28 characters."""

    name: str = "resnet"
    stages: int = 3
    blocks_per_stage: int = 2
    filters: int = 32
    stem_stride: int = 1
    dropout: float = 0.2  # before the output layer
    bn_momentum: float = 0.9

    def __post_init__(self) -> None:
        require(1 <= self.stages <= 4, f"model.stages must be in 1..4, got {self.stages}")
        require(
            1 <= self.blocks_per_stage <= 8,
            f"model.blocks_per_stage must be in 1..8, got {self.blocks_per_stage}",
        )
        require(self.filters >= 1, f"model.filters must be >= 1, got {self.filters}")
        require(
            self.stem_stride in (1, 2), f"model.stem_stride must be 1 or 2, got {self.stem_stride}"
        )
        require(0 <= self.dropout < 1, f"model.dropout must be in [0, 1), got {self.dropout}")
        require(
            0 <= self.bn_momentum < 1,
            f"model.bn_momentum must be in [0, 1), got {self.bn_momentum}",
        )


def build_resnet(params: ResNetParams, n_classes: int) -> keras.Model:
    inputs, x = pixel_input()
    x = conv_bn_relu(x, params.filters, 3, params.bn_momentum, strides=params.stem_stride)
    for stage in range(params.stages):
        for block in range(params.blocks_per_stage):
            strides = 2 if stage > 0 and block == 0 else 1
            x = _residual_block(x, params.filters * 2**stage, strides, params.bn_momentum)
    x = keras.layers.GlobalAveragePooling2D()(x)
    if params.dropout:
        x = keras.layers.Dropout(params.dropout)(x)
    return keras.Model(inputs, class_probabilities(x, n_classes), name=params.name)


def _residual_block(
    x: keras.KerasTensor, filters: int, strides: int, bn_momentum: float
) -> keras.KerasTensor:
    """relu(x + conv-bn-relu-conv-bn(x)); a strided 1×1 projection when the shape changes."""
    residual = conv_bn_relu(x, filters, 3, bn_momentum, strides)
    residual = conv_bn_relu(residual, filters, 3, bn_momentum, relu=False)
    if strides != 1 or x.shape[-1] != filters:
        x = conv_bn_relu(x, filters, 1, bn_momentum, strides, relu=False)
    return keras.layers.ReLU()(keras.layers.Add()([x, residual]))
