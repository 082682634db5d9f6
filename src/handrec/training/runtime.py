"""Where and how TensorFlow runs: threads, devices, numeric precision."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras
import tensorflow as tf


def configure_threads(threads: int) -> bool:
    """Run TensorFlow with `threads` threads inside and across ops (0: its default, one per core).

    TensorFlow reads these settings once, when its runtime starts, so call this before the
    first operation. Returns False, changing nothing, if the runtime already runs with other
    settings; calling it again with the same number is harmless.
    """
    if threads == 0:
        return True
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        return False
    return True


@contextmanager
def strategy_scope(
    distribute: str = "none", precision: str = "float32"
) -> Iterator[tf.distribute.Strategy]:
    """Build (and train) the model inside this: the strategy of `distribute` (a TrainSpec's
    train.distribute) and the dtype policy of `precision` (train.precision). The previous global
    dtype policy returns on exit."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        strategy = _strategy(distribute)
        with strategy.scope():
            yield strategy
    finally:
        keras.mixed_precision.set_global_policy(previous)


def is_mirrored(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.MirroredStrategy)


def _strategy(distribute: str) -> tf.distribute.Strategy:
    """`mirrored` replicates over every GPU, or over every (logical) CPU device without one."""
    if distribute == "none":
        return tf.distribute.get_strategy()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])
