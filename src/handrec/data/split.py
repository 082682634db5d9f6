"""Stratified train/validation/test splits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from handrec.data.dataset import Dataset
from handrec.errors import DataError, require


@dataclass
class SplitSpec:
    """Fractions of the whole set held out for validation and test.

    The test part is touched only by the final evaluation, never by training or model selection.
    """

    val: float = 0.1
    test: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        require(0 < self.val < 1, f"data.split.val must be in (0, 1), got {self.val}")
        require(0 < self.test < 1, f"data.split.test must be in (0, 1), got {self.test}")
        require(
            self.val + self.test < 1,
            f"data.split.val + data.split.test must be < 1, got {self.val + self.test:g}",
        )


@dataclass(frozen=True)
class Splits:
    train: Dataset
    val: Dataset
    test: Dataset


def split(data: Dataset, spec: SplitSpec) -> Splits:
    """Split so that every class keeps its share in each part (sklearn, stratified)."""
    index = np.arange(len(data))
    counts = np.bincount(data.y, minlength=len(data.labels))
    present = counts[counts > 0]
    if len(present) == 0:
        raise DataError("the data set is empty: check data.sources")
    if present.min() < 3:
        rare = [c for c, n in data.counts().items() if 0 < n < 3]
        raise DataError(
            f"classes {rare} have fewer than 3 samples: a stratified train/val/test split needs "
            "at least 3 per class; add data or drop those classes from `classes`"
        )
    try:
        rest, test = train_test_split(
            index, test_size=spec.test, stratify=data.y, random_state=spec.seed
        )
        train, val = train_test_split(
            rest,
            test_size=spec.val / (1 - spec.test),
            stratify=data.y[rest],
            random_state=spec.seed,
        )
    except ValueError as err:
        raise DataError(
            f"cannot split {len(data)} samples of {len(present)} classes with "
            f"val={spec.val}, test={spec.test}: {err} (use more data or larger fractions)"
        ) from err
    return Splits(data.subset(train), data.subset(val), data.subset(test))
