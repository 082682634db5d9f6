import numpy as np
import pytest

from handrec.data.dataset import Dataset, concat
from handrec.errors import DataError
from handrec.labels import LabelSpace


def make(labels: list[int], classes: str = "ABC") -> Dataset:
    x = np.stack([np.full((28, 28), i, np.uint8) for i in range(len(labels))])
    return Dataset(x, np.array(labels, np.int64), LabelSpace.from_names(classes))


def test_images_must_be_uint8_28_by_28():
    with pytest.raises(DataError, match="uint8"):
        Dataset(
            np.zeros((2, 28, 28), np.float32), np.zeros(2, np.int64), LabelSpace.from_names("AB")
        )


def test_labels_must_match_the_number_of_images():
    with pytest.raises(DataError, match="3 images"):
        Dataset(np.zeros((3, 28, 28), np.uint8), np.zeros(2, np.int64), LabelSpace.from_names("AB"))


def test_labels_must_lie_in_the_label_space():
    with pytest.raises(DataError, match="0..1"):
        make([0, 2], classes="AB")


def test_to_space_relabels_by_name_and_counts_dropped():
    data = make([0, 1, 2, 2], classes="ABC")
    mapped, dropped = data.to_space(LabelSpace.from_names("CA"))
    assert mapped.y.tolist() == [1, 0, 0]
    assert dropped == 1
    assert mapped.x[:, 0, 0].tolist() == [0, 2, 3]


def test_counts_include_empty_classes():
    assert make([0, 0, 2]).counts() == {"A": 2, "B": 0, "C": 1}


def test_fingerprint_changes_with_a_single_pixel():
    data = make([0, 1, 2])
    changed = data.x.copy()
    changed[1, 5, 5] += 1
    assert data.fingerprint() == make([0, 1, 2]).fingerprint()
    assert data.fingerprint() != Dataset(changed, data.y, data.labels).fingerprint()


def test_concat_refuses_different_label_spaces():
    with pytest.raises(DataError, match="label spaces"):
        concat([make([0], "AB"), make([0], "BA")])


def test_to_space_onto_relabels_the_listed_classes_and_drops_the_rest():
    data = make([0, 1, 2, 2], classes="Aac")
    mapped, dropped = data.to_space(LabelSpace.from_names("AC"), {"c": "C"})
    assert mapped.labels.names(mapped.y) == ["C", "C"]
    assert dropped == 2
    assert mapped.x[:, 0, 0].tolist() == [2, 3]
