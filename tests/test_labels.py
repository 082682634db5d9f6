import numpy as np
import pytest

from handrec.errors import ConfigError
from handrec.labels import LabelSpace


def test_a_string_gives_one_class_per_character():
    assert LabelSpace.from_names("0A").classes == ("0", "A")


def test_duplicate_class_names_are_refused():
    with pytest.raises(ConfigError, match="duplicates"):
        LabelSpace.from_names("0AA")


def test_lookup_maps_by_name_and_marks_missing_classes():
    source = LabelSpace.from_names("ABa")
    target = LabelSpace.from_names("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert source.lookup_to(target).tolist() == [10, 11, -1]


def test_names_turns_labels_into_class_names():
    assert LabelSpace.from_names("xyz").names(np.array([2, 0])) == ["z", "x"]


def test_lookup_onto_takes_only_the_listed_classes_under_their_new_names():
    source = LabelSpace.from_names("Ooc")
    target = LabelSpace.from_names("CO")
    assert source.lookup_to(target, {"o": "O"}).tolist() == [-1, 1, -1]
