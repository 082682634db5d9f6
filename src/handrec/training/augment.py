"""On-the-fly distortions of training images, drawn per image from a seed per batch.

The random numbers come from stateless ops keyed by (run seed, step), not from Keras' random
layers: their draws depend on a hidden generator state, so a resumed run could not repeat
them. The affine part (rotation, shift, zoom, shear) is one composed transform, so each image
is interpolated once, not four times. `thickness` varies the stroke width, which differs most
between pens, scanners and data sets, with a grey-level dilation or erosion.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from handrec.data.dataset import IMAGE_SHAPE
from handrec.training.spec import AugmentSpec

CENTRE = (IMAGE_SHAPE[0] - 1) / 2


def augment(images: tf.Tensor, spec: AugmentSpec, seed: tf.Tensor) -> tf.Tensor:
    """Distort float32 images [B, 28, 28]; the same `seed` (int [2]) gives the same images."""
    affine_seed, elastic_seed, stroke_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 3)
    )
    x = images[..., None]
    if spec.thickness:
        x = _restroke(x, spec.thickness, stroke_seed)
    if spec.elastic_alpha:
        x = _elastic(x, spec, elastic_seed)
    if spec.affine:
        x = keras.ops.image.affine_transform(
            x, _affine_transforms(spec, tf.shape(x)[0], affine_seed)
        )
    return tf.clip_by_value(x[..., 0], 0.0, 255.0)  # interpolation can overshoot by rounding


def _affine_transforms(spec: AugmentSpec, n: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """[n, 8] projective transforms mapping output pixels to input pixels, about the centre."""
    seeds = tf.unstack(tf.random.experimental.stateless_split(seed, 5))

    def draw(index: int, low: float, high: float) -> tf.Tensor:
        return tf.random.stateless_uniform([n], seeds[index], low, high)

    angle = draw(0, -spec.rotation, spec.rotation) * (math.pi / 180)
    shear = tf.tan(draw(1, -spec.shear, spec.shear) * (math.pi / 180))
    scale = draw(2, 1 - spec.zoom, 1 + spec.zoom)
    shift_x = draw(3, -spec.shift, spec.shift) * IMAGE_SHAPE[1]
    shift_y = draw(4, -spec.shift, spec.shift) * IMAGE_SHAPE[0]
    cos, sin = tf.cos(angle), tf.sin(angle)
    # inverse of scale · rotation · shear: (1/scale) · shear⁻¹ · rotation⁻¹
    m00, m01 = (cos + shear * sin) / scale, (sin - shear * cos) / scale
    m10, m11 = -sin / scale, cos / scale
    source_x, source_y = CENTRE + shift_x, CENTRE + shift_y
    offset_x = CENTRE - (m00 * source_x + m01 * source_y)
    offset_y = CENTRE - (m10 * source_x + m11 * source_y)
    zeros = tf.zeros_like(angle)
    return tf.stack([m00, m01, offset_x, m10, m11, offset_y, zeros, zeros], axis=1)


def _restroke(x: tf.Tensor, thickness: float, seed: tf.Tensor) -> tf.Tensor:
    """Each image blended towards its 3×3 grey-level dilation (thicker strokes) or erosion
    (thinner) by a weight drawn from ±thickness: a weight of 1 moves every edge by one pixel."""
    weight = tf.random.stateless_uniform([tf.shape(x)[0], 1, 1, 1], seed, -thickness, thickness)
    dilated = tf.nn.max_pool2d(x, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
    return x + tf.maximum(weight, 0.0) * (dilated - x) + tf.minimum(weight, 0.0) * (x - eroded)


def _elastic(x: tf.Tensor, spec: AugmentSpec, seed: tf.Tensor) -> tf.Tensor:
    """Simard et al.'s elastic distortion: each pixel moves by smoothed random noise × alpha."""
    noise = tf.random.stateless_uniform([tf.shape(x)[0], *IMAGE_SHAPE, 2], seed, -1.0, 1.0)
    displacement = _gaussian_blur(noise, spec.elastic_sigma)
    grid = tf.stack(
        tf.meshgrid(
            tf.range(IMAGE_SHAPE[0], dtype=tf.float32),
            tf.range(IMAGE_SHAPE[1], dtype=tf.float32),
            indexing="ij",
        )
    )
    coordinates = grid + tf.transpose(displacement * spec.elastic_alpha, [0, 3, 1, 2])

    def warp(image_and_coordinates: tuple[tf.Tensor, tf.Tensor]) -> tf.Tensor:
        image, where = image_and_coordinates
        return keras.ops.image.map_coordinates(image, where, order=1)

    return tf.vectorized_map(warp, (x[..., 0], coordinates))[..., None]


def _gaussian_blur(fields: tf.Tensor, sigma: float) -> tf.Tensor:
    """Separable Gaussian blur of each channel of [B, H, W, C]."""
    radius = math.ceil(2 * sigma)
    taps = tf.exp(-0.5 * (tf.range(-radius, radius + 1, dtype=tf.float32) / sigma) ** 2)
    taps /= tf.reduce_sum(taps)
    channels = fields.shape[-1]
    column = tf.tile(tf.reshape(taps, [-1, 1, 1, 1]), [1, 1, channels, 1])
    row = tf.reshape(column, [1, -1, channels, 1])
    fields = tf.nn.depthwise_conv2d(fields, column, [1, 1, 1, 1], "SAME")
    return tf.nn.depthwise_conv2d(fields, row, [1, 1, 1, 1], "SAME")
