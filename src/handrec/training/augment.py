"""On-the-fly distortions of training images, drawn per image from a seed per batch.

The random numbers come from stateless ops keyed by (run seed, step), not from Keras' random
layers: their draws depend on a hidden generator state, so a resumed run could not repeat
them. The affine part (rotation, shift, zoom, shear) is one composed transform, so each image
is interpolated once, not four times. `thickness` varies the stroke width, which differs most
between pens, scanners and data sets, with a grey-level dilation or erosion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import tensorflow as tf

from handrec.data.dataset import IMAGE_SHAPE
from handrec.errors import require

CENTRE = (IMAGE_SHAPE[0] - 1) / 2


@dataclass
class AugmentSpec:
    """Strengths of the distortions; 0 switches one off. Images are never flipped: a mirrored
    character is another character, or none."""

    rotation: float = 0.0  # degrees, drawn from ±rotation
    shift: float = 0.0  # fraction of the image side, ±, along each axis
    zoom: float = 0.0  # scale drawn from [1 - zoom, 1 + zoom]
    shear: float = 0.0  # degrees, ±
    elastic_alpha: float = 0.0  # elastic distortion strength in pixels (Simard et al.: 34)
    elastic_sigma: float = 4.0  # smoothness of the elastic displacement field, in pixels
    thickness: float = 0.0  # stroke width change in pixels, ±: > 0 thickens, < 0 thins

    def __post_init__(self) -> None:
        limits = {
            "rotation": 180,
            "shift": 0.5,
            "zoom": 0.9,
            "shear": 60,
            "elastic_alpha": 100,
            "thickness": 1,
        }
        for key, top in limits.items():
            value = getattr(self, key)
            require(0 <= value <= top, f"train.augment.{key} must be in [0, {top}], got {value}")
        require(
            0 < self.elastic_sigma <= 14,
            f"train.augment.elastic_sigma must be in (0, 14], got {self.elastic_sigma}",
        )

    @property
    def affine(self) -> bool:
        return any((self.rotation, self.shift, self.zoom, self.shear))

    @property
    def enabled(self) -> bool:
        return self.affine or self.elastic_alpha > 0 or self.thickness > 0


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
