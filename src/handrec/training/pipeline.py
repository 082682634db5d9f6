"""tf.data input pipelines built straight from the uint8 arrays."""

from __future__ import annotations

import tensorflow as tf

from handrec.data.dataset import Dataset


def batches(
    data: Dataset, batch_size: int, shuffle: bool = False, seed: int = 0
) -> tf.data.Dataset:
    """(pixels float32 [B, 28, 28], labels) batches.

    The cast to float happens per batch inside the graph, so the whole set never exists as
    float32; scaling to [0, 1] is the model's own first layer.
    """
    pipeline = tf.data.Dataset.from_tensor_slices((data.x, data.y))
    if shuffle:
        pipeline = pipeline.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    return (
        pipeline.batch(batch_size)
        .map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
