"""Architectures for 28×28 characters: each a params dataclass (handrec.models.params, the
`model=` config's schemas) and a builder (seed_cnn.py, cnn.py, resnet.py).

`build_model`, `BUILDERS` and `flops` load Keras when first used, not when the package is
imported, so that a config is checked (handrec.models.params) without starting TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

from handrec.models.params import PARAMS

_KERAS = {
    "build_model": "handrec.models.build",
    "BUILDERS": "handrec.models.build",
    "flops": "handrec.models.cost",
}

__all__ = ["BUILDERS", "PARAMS", "build_model", "flops"]


def __getattr__(name: str) -> Any:
    if name in _KERAS:
        return getattr(importlib.import_module(_KERAS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
