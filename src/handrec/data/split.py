"""Stratified train/validation/test splits, plain or as k folds.

scikit-learn is imported where a split is made, not with the module: SplitSpec is part of the
config's schema, checked by every command before it does anything (and sklearn's import takes
longer than the whole check).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handrec.data.dataset import Dataset
from handrec.errors import DataError, require


@dataclass
class SplitSpec:
    """Fractions of the whole set held out for validation and test.

    The test part is touched only by the final evaluation, never by training or model selection.
    With `folds` >= 2 the test part stays the same and validation rotates over the rest
    (stratified k-fold): `fold` picks which of the `folds` parts validates, and `val` is unused.
    """

    val: float = 0.1
    test: float = 0.1
    seed: int = 0
    folds: int = 0  # 0 or 1: one plain split
    fold: int = 0  # 0 <= fold < folds

    def __post_init__(self) -> None:
        require(0 < self.val < 1, f"data.split.val must be in (0, 1), got {self.val}")
        require(0 < self.test < 1, f"data.split.test must be in (0, 1), got {self.test}")
        require(
            self.val + self.test < 1,
            f"data.split.val + data.split.test must be < 1, got {self.val + self.test:g}",
        )
        require(self.folds >= 0, f"data.split.folds must be >= 0, got {self.folds}")
        require(
            0 <= self.fold < max(self.folds, 1),
            f"data.split.fold must be in [0, {max(self.folds, 1)}) with "
            f"data.split.folds={self.folds}, got {self.fold}",
        )

    @property
    def k_fold(self) -> bool:
        return self.folds >= 2


@dataclass(frozen=True)
class Splits:
    train: Dataset
    val: Dataset
    test: Dataset


def split(data: Dataset, spec: SplitSpec) -> Splits:
    """Split so that every class keeps its share in each part (sklearn, stratified)."""
    from sklearn.model_selection import train_test_split

    present = _class_counts(data)
    index = np.arange(len(data))
    try:
        rest, test = train_test_split(
            index, test_size=spec.test, stratify=data.y, random_state=spec.seed
        )
        train, val = _fold(rest, data.y[rest], spec) if spec.k_fold else _hold_out(rest, data, spec)
    except ValueError as err:
        raise DataError(
            f"cannot split {len(data)} samples of {len(present)} classes with "
            f"val={spec.val}, test={spec.test}, folds={spec.folds}: {err} "
            "(use more data or larger fractions)"
        ) from err
    return Splits(data.subset(train), data.subset(val), data.subset(test))


def _class_counts(data: Dataset) -> np.ndarray:
    """Samples per class present; refuses what cannot be stratified into three parts."""
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
    return present


def _hold_out(rest: np.ndarray, data: Dataset, spec: SplitSpec) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    return train_test_split(
        rest,
        test_size=spec.val / (1 - spec.test),
        stratify=data.y[rest],
        random_state=spec.seed,
    )


def _fold(rest: np.ndarray, y: np.ndarray, spec: SplitSpec) -> tuple[np.ndarray, np.ndarray]:
    """The `spec.fold`-th of `spec.folds` stratified folds of train+val as validation."""
    smallest = np.bincount(y)[np.unique(y)].min()
    if smallest < spec.folds:
        raise ValueError(
            f"a class has only {smallest} samples outside the test part, fewer than "
            f"data.split.folds={spec.folds}"
        )
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed)
    train, val = list(folds.split(rest, y))[spec.fold]
    return rest[train], rest[val]
