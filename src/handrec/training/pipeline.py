"""tf.data input pipelines built straight from the uint8 arrays.

Batches are gathered from the uint8 images by index and cast to float32 per batch inside the
graph, so the whole set never exists as float32; scaling to [0, 1] is the model's first layer.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from handrec.data.dataset import Dataset
from handrec.training.augment import AugmentSpec, augment

AUGMENT_STREAM = 1  # keeps augmentation draws apart from shuffling draws of the same seed
PREFETCH = 2
"""Batches prepared ahead. Not tf.data.AUTOTUNE: its buffer took 35 s to tear down at the end
of a 3-epoch fit on 71,410 images (the fit itself took 49 s), for no gain in speed."""


def batches(
    data: Dataset,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    n_classes: int | None = None,
) -> tf.data.Dataset:
    """One pass over `data` as (pixels float32 [B, 28, 28], labels) batches, unaugmented.

    Labels are ints, or one-hot float32 rows when `n_classes` is given.
    """
    return epoch_batches(data, batch_size, range(1), seed, shuffle=shuffle, n_classes=n_classes)


def epoch_batches(
    data: Dataset,
    batch_size: int,
    epochs: range,
    seed: int,
    augment_spec: AugmentSpec | None = None,
    shuffle: bool = True,
    n_classes: int | None = None,
) -> tf.data.Dataset:
    """The batches of `epochs`, back to back, `steps_per_epoch` batches each.

    Epoch e's order is drawn from (seed, e) and the augmentation of step s from (seed, s),
    so an epoch's batches are the same whether a run began at epoch 0 or resumed at e.
    """
    images = tf.constant(np.ascontiguousarray(data.x))
    labels = tf.constant(data.y)
    seed_tensor = tf.constant(seed, tf.int64)
    size = len(data)
    steps = steps_per_epoch(size, batch_size)

    def epoch_order(epoch: tf.Tensor) -> tf.data.Dataset:
        order = tf.range(size, dtype=tf.int64)
        if shuffle:
            order = tf.random.experimental.stateless_shuffle(order, tf.stack([seed_tensor, epoch]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size)

    def load(step: tf.Tensor, index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x = tf.cast(tf.gather(images, index), tf.float32)
        if augment_spec is not None and augment_spec.enabled:
            x = augment(x, augment_spec, tf.stack([seed_tensor + AUGMENT_STREAM, step]))
        y = tf.gather(labels, index)
        return x, y if n_classes is None else tf.one_hot(y, n_classes)

    return (
        tf.data.Dataset.range(epochs.start, epochs.stop)
        .flat_map(epoch_order)
        .apply(tf.data.experimental.assert_cardinality(len(epochs) * steps))
        .enumerate(start=epochs.start * steps)
        .map(load, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(PREFETCH)
    )


def steps_per_epoch(size: int, batch_size: int) -> int:
    return math.ceil(size / batch_size)
