import keras
import numpy as np
import pytest

from experiments.schema import settings
from handrec.data.dataset import Dataset
from handrec.errors import ConfigError
from handrec.evaluation import evaluate, score
from handrec.labels import LabelSpace
from handrec.models import build_model
from handrec.models.seed_cnn import SeedCnnParams
from handrec.training.augment import AugmentSpec
from handrec.training.callbacks import TrainingDiverged
from handrec.training.fit import TrainSpec, balanced_class_weights, fit


def toy(n: int, seed: int) -> Dataset:
    """Two trivially separable classes: dark squares and bright squares."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = np.zeros((n, 28, 28), np.uint8)
    x[y == 1, 8:20, 8:20] = 255
    return Dataset(x, y.astype(np.int64), LabelSpace.from_names("AB"))


def tiny_seed_cnn():
    return build_model(SeedCnnParams(filters=2, dense_units=4), 2)


def test_fit_reports_loss_accuracy_and_learning_rate_per_epoch():
    history = fit(
        tiny_seed_cnn(), toy(64, 0), toy(32, 1), TrainSpec(epochs=2, batch_size=32, verbose=0)
    )
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert len(history["val_accuracy"]) == 2
    assert history["learning_rate"] == pytest.approx([1e-3, 1e-3])
    assert history.epochs == [1, 2]


def test_the_same_seed_twice_gives_identical_metrics_in_deterministic_mode():
    spec = TrainSpec(
        epochs=1, batch_size=16, verbose=0, deterministic=True, augment=AugmentSpec(rotation=15)
    )

    def run() -> dict:
        keras.utils.set_random_seed(3)
        return dict(fit(tiny_seed_cnn(), toy(64, 0), toy(32, 1), spec, seed=3))

    assert run() == run()


def test_a_nan_loss_stops_the_run_naming_the_epoch_and_the_fix():
    model = tiny_seed_cnn()
    kernel = model.layers[-1].kernel
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    with pytest.raises(
        TrainingDiverged, match="loss became NaN .* at epoch 1.*train.learning_rate"
    ):
        fit(model, toy(32, 0), toy(16, 1), TrainSpec(epochs=2, batch_size=16, verbose=0))


def test_early_stopping_ends_the_run_and_keeps_the_best_epoch_weights():
    spec = TrainSpec(epochs=8, batch_size=16, verbose=0, early_stopping=1, learning_rate=0.01)
    model = tiny_seed_cnn()
    history = fit(model, toy(64, 0), toy(32, 1), spec)
    assert len(history.epochs) < 8
    assert evaluate(model, toy(32, 1)).accuracy == max(history["val_accuracy"])


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"optimizer": "adagrad"}, "train.optimizer must be one of adam, adamw, sgd, rmsprop"),
        ({"optimizer": "adamw"}, "train.weight_decay must be > 0 with train.optimizer=adamw"),
        ({"learning_rate": 0}, "train.learning_rate must be > 0"),
        ({"label_smoothing": 1.0}, "train.label_smoothing must be in [0, 1)"),
        ({"momentum": -0.1}, "train.momentum must be in [0, 1)"),
        ({"early_stopping": -1}, "train.early_stopping must be >= 0"),
        ({"monitor": "accuracy"}, "train.monitor must be one of val_accuracy, val_loss"),
        ({"threads": -1}, "train.threads must be >= 0"),
        ({"distribute": "tpu"}, "train.distribute must be one of none, mirrored"),
        ({"precision": "float16"}, "train.precision must be one of float32, mixed_float16"),
    ],
)
def test_bad_training_settings_name_the_key_and_the_valid_values(settings, named):
    with pytest.raises(ConfigError) as info:
        TrainSpec(**settings)
    assert named in str(info.value)
    assert "\n" not in str(info.value)


def test_score_counts_every_class_of_the_label_space():
    result = score(np.array([0, 0, 1]), np.array([0, 1, 1]), ("A", "B", "C"))
    assert result.accuracy == 2 / 3
    assert result.confusion.shape == (3, 3)
    assert result.per_class["C"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert result.per_class["A"]["recall"] == 0.5


@pytest.mark.parametrize("recipe", ["seed", "fast", "best"])
def test_every_recipe_composes_into_valid_settings(compose_config, recipe):
    composed = settings(compose_config(f"experiment={recipe}"))
    assert isinstance(composed.train, TrainSpec)


def test_the_seed_recipe_is_the_original(compose_config):
    composed = settings(compose_config("experiment=seed"))
    assert composed.model == SeedCnnParams()
    assert composed.train == TrainSpec()
    assert composed.data.name == "mnist_az"


def test_balanced_class_weights_favour_the_rare_class():
    data = Dataset(
        np.zeros((4, 28, 28), np.uint8), np.array([0, 0, 0, 1]), LabelSpace.from_names("AB")
    )
    assert balanced_class_weights(data) == pytest.approx({0: 4 / 6, 1: 2.0})


def test_class_weights_change_what_the_model_learns():
    def trained_loss(class_weight):
        keras.utils.set_random_seed(0)
        model = tiny_seed_cnn()
        spec = TrainSpec(epochs=1, batch_size=32, verbose=0, deterministic=True)
        return fit(model, toy(64, 0), toy(32, 1), spec, class_weight=class_weight)["loss"][0]

    assert trained_loss(None) != pytest.approx(trained_loss({0: 5.0, 1: 0.2}))
