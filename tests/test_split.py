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


def test_k_fold_keeps_one_test_part_for_every_fold():
    data = balanced(40)
    tests = [ids(split(data, SplitSpec(test=0.25, folds=3, fold=k)).test) for k in range(3)]
    assert tests[0] == tests[1] == tests[2]
    assert tests[0] == ids(split(data, SplitSpec(test=0.25)).test)


def test_k_fold_validation_parts_partition_the_rest():
    data = balanced(40)
    parts = [split(data, SplitSpec(test=0.25, folds=3, fold=k)) for k in range(3)]
    vals = [ids(p.val) for p in parts]
    assert not (vals[0] & vals[1] or vals[0] & vals[2] or vals[1] & vals[2])
    assert set().union(*vals) == ids(parts[0].train) | vals[0]
    for part in parts:
        assert not ids(part.train) & ids(part.val)


def test_k_fold_validation_keeps_the_class_proportions():
    parts = split(balanced(40), SplitSpec(test=0.25, folds=3, fold=1))
    assert list(parts.val.counts().values()) == [10] * 4


@pytest.mark.parametrize(("folds", "fold"), [(3, 3), (3, -1), (0, 1), (-2, 0)])
def test_a_fold_outside_the_folds_is_refused(folds, fold):
    with pytest.raises(ConfigError, match="data.split.fold"):
        SplitSpec(folds=folds, fold=fold)


def test_more_folds_than_samples_of_a_class_is_named():
    with pytest.raises(DataError, match="folds=5"):
        split(balanced(5), SplitSpec(test=0.2, folds=5))
