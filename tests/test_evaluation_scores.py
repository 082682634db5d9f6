"""The scores of an evaluation beyond accuracy: look-alikes, confusions, CER, line folders."""

from __future__ import annotations

import numpy as np
import pytest

from handrec.data.lines import load_lines
from handrec.errors import DataError
from handrec.evaluation import (
    character_error_rate,
    edit_distance,
    lookalike_error_share,
    top_confusions,
)

CLASSES = ("0", "1", "O", "I")


def test_the_lookalike_share_counts_pairs_either_way_round():
    truth = np.array([2, 0, 1, 3, 0])
    predicted = np.array([0, 2, 2, 3, 0])  # O→0 and 0→O are look-alikes, 1→O is not
    assert lookalike_error_share(truth, predicted, CLASSES) == pytest.approx(2 / 3)


def test_the_lookalike_share_is_zero_without_errors():
    assert lookalike_error_share(np.array([1, 2]), np.array([1, 2]), CLASSES) == 0.0


def test_top_confusions_lists_the_most_frequent_mistakes_first_and_no_correct_ones():
    confusion = np.array([[9, 0, 3, 0], [0, 5, 0, 1], [4, 0, 7, 0], [0, 0, 0, 2]])
    assert top_confusions(confusion, CLASSES, n=5) == [("O", "0", 4), ("0", "O", 3), ("1", "I", 1)]


@pytest.mark.parametrize(
    ("a", "b", "distance"), [("KEVIN", "KEVIN", 0), ("KEVIN", "KE5IN", 1), ("AB", "", 2)]
)
def test_edit_distance_counts_insertions_deletions_and_substitutions(a, b, distance):
    assert edit_distance(a, b) == distance


def test_the_character_error_rate_leaves_spaces_out_unless_asked():
    assert character_error_rate(["AB CD"], ["A B C D"]) == 0.0
    assert character_error_rate(["AB CD"], ["A B C D"], spaces=True) == pytest.approx(2 / 5)


def test_a_line_folder_lists_its_images_beside_labels_tsv_or_in_images(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "images" / "b.png").write_bytes(b"x")
    (tmp_path / "labels.tsv").write_text("a.png\tHELLO\nb.png\tAB 7\n")
    lines = load_lines(tmp_path)
    assert [(line.path.name, line.text) for line in lines] == [
        ("a.png", "HELLO"),
        ("b.png", "AB 7"),
    ]


def test_a_line_folder_without_labels_tsv_says_what_it_needs(tmp_path):
    with pytest.raises(DataError, match="labels.tsv not found: a line folder needs"):
        load_lines(tmp_path)


def test_a_malformed_labels_row_is_named_by_its_line(tmp_path):
    (tmp_path / "labels.tsv").write_text("a.png HELLO\n")
    with pytest.raises(DataError, match=r"labels.tsv:1: expected file<TAB>text"):
        load_lines(tmp_path)
