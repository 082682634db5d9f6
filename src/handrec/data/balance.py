"""Capping and undersampling classes, for imbalanced sets such as EMNIST (O 4,156 … K 382)."""

from __future__ import annotations

import numpy as np

from handrec.data.dataset import Dataset
from handrec.errors import require


def cap_per_class(data: Dataset, n: int, seed: int = 0) -> Dataset:
    """At most `n` samples of each class, drawn at random (fixed by `seed`), in original order.

    Classes with fewer than `n` samples keep all of theirs.
    """
    require(n >= 1, f"max_per_class must be >= 1, got {n}")
    order = np.random.default_rng(seed).permutation(len(data))
    order = order[np.argsort(data.y[order], kind="stable")]
    counts = np.bincount(data.y, minlength=len(data.labels))
    rank = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    return data.subset(np.sort(order[rank < n]))


def undersample(data: Dataset, seed: int = 0) -> Dataset:
    """Every present class cut to the size of the smallest present class."""
    counts = np.bincount(data.y, minlength=len(data.labels))
    present = counts[counts > 0]
    if present.size == 0:
        return data
    return cap_per_class(data, int(present.min()), seed)
