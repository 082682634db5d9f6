import numpy as np
import pytest

from handrec.data.dataset import Dataset
from handrec.data.split import SplitSpec, split
from handrec.errors import ConfigError, DataError
from handrec.labels import LabelSpace


def balanced(per_class: int, n_classes: int = 4) -> Dataset:
    y = np.repeat(np.arange(n_classes), per_class)
    x = np.zeros((len(y), 28, 28), np.uint8)
    x[:, 0, 0] = np.arange(len(y)) % 256
    x[:, 0, 1] = np.arange(len(y)) // 256
    return Dataset(x, y, LabelSpace.from_names("ABCD"[:n_classes]))


def ids(data: Dataset) -> set[int]:
    return set((data.x[:, 0, 0].astype(int) + 256 * data.x[:, 0, 1].astype(int)).tolist())


def test_parts_are_disjoint_and_cover_the_data():
    parts = split(balanced(50), SplitSpec(val=0.2, test=0.2))
    train, val, test = ids(parts.train), ids(parts.val), ids(parts.test)
    assert not (train & val or train & test or val & test)
    assert len(train | val | test) == 200


def test_every_part_keeps_the_class_proportions():
    parts = split(balanced(50), SplitSpec(val=0.2, test=0.2))
    for part, size in ((parts.train, 30), (parts.val, 10), (parts.test, 10)):
        assert list(part.counts().values()) == [size] * 4


def test_the_same_seed_gives_the_same_split():
    a = split(balanced(20), SplitSpec(seed=3))
    b = split(balanced(20), SplitSpec(seed=3))
    assert ids(a.test) == ids(b.test)


def test_another_seed_gives_another_split():
    a = split(balanced(20), SplitSpec(seed=3))
    b = split(balanced(20), SplitSpec(seed=4))
    assert ids(a.test) != ids(b.test)


@pytest.mark.parametrize(("val", "test"), [(0.0, 0.1), (0.1, 1.0), (0.6, 0.4), (-0.1, 0.2)])
def test_fractions_outside_the_allowed_range_are_refused(val, test):
    with pytest.raises(ConfigError, match="data.split"):
        SplitSpec(val=val, test=test)


def test_a_class_too_small_to_stratify_is_named():
    data = balanced(20)
    y = data.y.copy()
    y[:18] = 1
    with pytest.raises(DataError, match=r"\['A'\]"):
        split(Dataset(data.x, y, data.labels), SplitSpec())
