"""A small ResNet: residual blocks of two 3×3 convolutions, in stages of doubling width."""

from __future__ import annotations

import keras

from handrec.models.inputs import pixel_input
from handrec.models.layers import class_probabilities, conv_bn_relu
from handrec.models.params import ResNetParams


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
