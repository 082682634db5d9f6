"""What a model costs: multiply-adds per image, from its layers' shapes."""

from __future__ import annotations

import math

import keras


def flops(model: keras.Model) -> int:
    """Multiply-adds of one image's forward pass through the convolutions and dense layers.

    These layers hold nearly all the arithmetic of a CNN; batch norm, activations and pooling
    are a few operations per value and are left out, as is usual when comparing models.
    """
    return sum(_layer_flops(layer) for layer in model.layers)


def _layer_flops(layer: keras.layers.Layer) -> int:
    if isinstance(layer, keras.Model):
        return flops(layer)
    if isinstance(layer, keras.layers.Conv2D):
        kernel_h, kernel_w, inputs_per_group, _ = layer.kernel.shape
        return math.prod(layer.output.shape[1:]) * kernel_h * kernel_w * inputs_per_group
    if isinstance(layer, keras.layers.Dense):
        positions = math.prod(layer.output.shape[1:-1])
        return positions * math.prod(layer.kernel.shape)
    return 0
