"""Capping and undersampling classes."""

from __future__ import annotations

import numpy as np
import pytest

from handrec.data.balance import cap_per_class, undersample
from handrec.data.dataset import Dataset
from handrec.errors import ConfigError
from handrec.labels import LabelSpace


def imbalanced() -> Dataset:
    """Class A: 10 samples, B: 4, C: 1, D: none; pixel value = sample index."""
    y = np.array([0] * 10 + [1] * 4 + [2])
    rng = np.random.default_rng(0)
    y = y[rng.permutation(len(y))]
    x = np.broadcast_to(np.arange(len(y), dtype=np.uint8)[:, None, None], (len(y), 28, 28))
    return Dataset(x.copy(), y, LabelSpace.from_names("ABCD"))


def test_cap_per_class_keeps_at_most_n_of_each_class():
    assert cap_per_class(imbalanced(), 3).counts() == {"A": 3, "B": 3, "C": 1, "D": 0}


def test_cap_per_class_keeps_smaller_classes_whole():
    assert cap_per_class(imbalanced(), 100).counts() == imbalanced().counts()


def test_cap_per_class_keeps_the_original_order():
    kept = cap_per_class(imbalanced(), 2).x[:, 0, 0]
    assert (np.diff(kept.astype(int)) > 0).all()


def test_cap_per_class_draws_the_same_samples_for_a_seed():
    data = imbalanced()
    assert (
        cap_per_class(data, 2, seed=1).fingerprint() == cap_per_class(data, 2, seed=1).fingerprint()
    )
    draws = {cap_per_class(data, 2, seed=s).fingerprint() for s in range(5)}
    assert len(draws) > 1


def test_undersample_cuts_every_present_class_to_the_smallest():
    assert undersample(imbalanced()).counts() == {"A": 1, "B": 1, "C": 1, "D": 0}


def test_a_cap_below_one_is_a_config_error():
    with pytest.raises(ConfigError, match="max_per_class must be >= 1"):
        cap_per_class(imbalanced(), 0)
