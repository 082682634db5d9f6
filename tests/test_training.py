import numpy as np
import pytest

from handrec.data.dataset import Dataset
from handrec.evaluation import score
from handrec.labels import LabelSpace
from handrec.models import build_model
from handrec.models.seed_cnn import SeedCnnParams
from handrec.training.fit import TrainSpec, fit


def toy(n: int, seed: int) -> Dataset:
    """Two trivially separable classes: dark squares and bright squares."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = np.zeros((n, 28, 28), np.uint8)
    x[y == 1, 8:20, 8:20] = 255
    return Dataset(x, y.astype(np.int64), LabelSpace.from_names("AB"))


def test_fit_reports_loss_accuracy_and_learning_rate_per_epoch():
    model = build_model(SeedCnnParams(filters=2, dense_units=4), 2)
    history = fit(model, toy(64, 0), toy(32, 1), TrainSpec(epochs=2, batch_size=32, verbose=0))
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert len(history["val_accuracy"]) == 2
    assert history["learning_rate"] == pytest.approx([1e-3, 1e-3])


def test_score_counts_every_class_of_the_label_space():
    result = score(np.array([0, 0, 1]), np.array([0, 1, 1]), ("A", "B", "C"))
    assert result.accuracy == 2 / 3
    assert result.confusion.shape == (3, 3)
    assert result.per_class["C"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert result.metrics()["test_recall_A"] == 0.5
