"""Training: the tf.data input pipeline, augmentation, schedules and the fit loop
(`handrec.training.fit.fit`).

Importing this starts no TensorFlow runtime, so `configure_threads` can still take effect.
"""

from handrec.training.runtime import configure_threads, strategy_scope

__all__ = ["configure_threads", "strategy_scope"]
