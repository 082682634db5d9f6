"""Training: the tf.data input pipeline, augmentation, schedules and the fit loop
(`handrec.training.fit.fit`); its settings are in `handrec.training.spec`.

`configure_threads` and `strategy_scope` (handrec.training.runtime) load TensorFlow when first
used, not when the package is imported, so that a config is checked without starting it and
`configure_threads` can still take effect.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["configure_threads", "strategy_scope"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("handrec.training.runtime"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
