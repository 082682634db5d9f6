"""Single-character accuracy with each character set a person can choose."""

from __future__ import annotations

import numpy as np
import pytest

from handrec.evaluation import charset_accuracies

CLASSES = ("0", "1", "O", "I")


def test_knowing_the_kind_turns_look_alike_errors_right():
    # an O read as 0 and a 1 read as I: wrong over all classes, right with the kind known
    probabilities = np.array([[0.6, 0.0, 0.4, 0.0], [0.0, 0.4, 0.0, 0.6]])
    scores = charset_accuracies(probabilities, np.array([2, 1]), CLASSES)
    assert scores["all"] == 0.0
    assert scores["kind known"] == 1.0


def test_each_charset_is_scored_on_its_own_kind_of_samples():
    probabilities = np.array([[0.9, 0.1, 0.0, 0.0], [0.1, 0.0, 0.0, 0.9], [0.0, 0.0, 0.3, 0.7]])
    scores = charset_accuracies(probabilities, np.array([0, 3, 2]), CLASSES)
    assert scores["digits"] == 1.0
    assert scores["letters"] == 0.5


def test_a_charset_without_samples_of_its_kind_has_no_score():
    probabilities = np.array([[0.9, 0.1, 0.0, 0.0]])
    assert np.isnan(charset_accuracies(probabilities, np.array([0]), CLASSES)["letters"])


def test_all_is_the_plain_accuracy():
    probabilities = np.array([[0.9, 0.1, 0.0, 0.0], [0.9, 0.1, 0.0, 0.0]])
    assert charset_accuracies(probabilities, np.array([0, 1]), CLASSES)["all"] == pytest.approx(0.5)
