"""Augmentation: per-image random distortions in the training pipeline, never at evaluation."""

import numpy as np
import pytest
import tensorflow as tf

from handrec.data.dataset import Dataset
from handrec.errors import ConfigError
from handrec.labels import LabelSpace
from handrec.training.augment import AugmentSpec, augment
from handrec.training.pipeline import batches, epoch_batches

STRONG = AugmentSpec(rotation=20, shift=0.1, zoom=0.1, shear=10, elastic_alpha=34, thickness=1)


def strokes(n: int = 8) -> Dataset:
    """A bright bar per image at varying heights: off-centre content that moves visibly."""
    x = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        x[i, 6 + i : 10 + i, 4:24] = 255
    return Dataset(x, np.arange(n) % 2, LabelSpace.from_names("AB"))


def images(data: Dataset) -> tf.Tensor:
    return tf.constant(data.x, tf.float32)


@pytest.mark.parametrize(
    "spec",
    [STRONG, AugmentSpec(rotation=30), AugmentSpec(elastic_alpha=34), AugmentSpec(thickness=1)],
    ids=["all", "affine", "elastic", "thickness"],
)
def test_augmentation_keeps_shape_dtype_and_pixel_range_and_changes_the_image(spec):
    original = images(strokes())
    distorted = augment(original, spec, tf.constant([0, 0], tf.int64))
    assert distorted.shape == original.shape and distorted.dtype == tf.float32
    assert np.min(distorted) >= 0 and np.max(distorted) <= 255
    assert not np.allclose(distorted, original, atol=1)


def test_augmentation_is_the_same_for_the_same_seed_and_differs_per_image_and_seed():
    original = images(strokes())
    first = augment(original, STRONG, tf.constant([1, 7], tf.int64)).numpy()
    again = augment(original, STRONG, tf.constant([1, 7], tf.int64)).numpy()
    other = augment(original, STRONG, tf.constant([1, 8], tf.int64)).numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_a_shift_moves_the_ink_without_losing_it():
    data = Dataset(
        np.pad(np.full((4, 8, 8), 255, np.uint8), ((0, 0), (10, 10), (10, 10))),
        np.zeros(4, np.int64),
        LabelSpace.from_names("AB"),
    )
    moved = augment(images(data), AugmentSpec(shift=0.1), tf.constant([0, 0], tf.int64)).numpy()
    np.testing.assert_allclose(moved.sum(axis=(1, 2)), data.x.sum(axis=(1, 2)), rtol=1e-3)


def test_thickness_thickens_some_strokes_and_thins_others_in_place():
    data = Dataset(
        np.pad(np.full((16, 4, 12), 255, np.uint8), ((0, 0), (12, 12), (8, 8))),
        np.zeros(16, np.int64),
        LabelSpace.from_names("AB"),
    )
    varied = augment(images(data), AugmentSpec(thickness=1), tf.constant([0, 3], tf.int64))
    ink = varied.numpy().sum(axis=(1, 2)) / data.x[0].sum(dtype=np.float64)
    assert ink.min() < 0.8 and ink.max() > 1.2  # a 4 × 12 bar: ±1 px is −55 % / +75 %
    assert ink.min() > 0.3 and ink.max() < 1.9
    rows = np.arange(28, dtype=np.float32)
    centres = (varied.numpy().sum(axis=2) * rows).sum(axis=1) / varied.numpy().sum(axis=(1, 2))
    np.testing.assert_allclose(centres, 13.5, atol=1e-3)


def test_training_batches_are_augmented_and_evaluation_batches_are_not():
    data = strokes()
    ((eval_x, _),) = batches(data, 8).as_numpy_iterator()
    ((train_x, _),) = epoch_batches(data, 8, range(1), 0, STRONG, shuffle=False).as_numpy_iterator()
    np.testing.assert_array_equal(eval_x, data.x.astype(np.float32))
    assert eval_x.dtype == np.float32
    assert not np.allclose(train_x, eval_x, atol=1)


def test_an_epochs_batches_do_not_depend_on_the_epoch_the_run_started_at():
    data = strokes(20)
    from_start = list(epoch_batches(data, 8, range(3), 5, STRONG).as_numpy_iterator())
    resumed = list(epoch_batches(data, 8, range(2, 3), 5, STRONG).as_numpy_iterator())
    assert len(from_start) == 9 and len(resumed) == 3
    for (x, y), (x_resumed, y_resumed) in zip(from_start[6:], resumed, strict=True):
        np.testing.assert_array_equal(x, x_resumed)
        np.testing.assert_array_equal(y, y_resumed)


def test_each_epoch_is_a_new_permutation_of_the_whole_set():
    data = Dataset(np.zeros((20, 28, 28), np.uint8), np.arange(20) % 2, LabelSpace.from_names("AB"))
    data = Dataset(data.x + np.arange(20, dtype=np.uint8)[:, None, None], data.y, data.labels)
    order = [x[:, 0, 0] for x, _ in epoch_batches(data, 10, range(2), 0).as_numpy_iterator()]
    first, second = np.concatenate(order[:2]), np.concatenate(order[2:])
    assert sorted(first) == sorted(second) == list(range(20))
    assert list(first) != list(second)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"rotation": -1}, "train.augment.rotation must be in [0, 180]"),
        ({"shift": 0.6}, "train.augment.shift must be in [0, 0.5]"),
        ({"zoom": 1}, "train.augment.zoom must be in [0, 0.9]"),
        ({"elastic_sigma": 0}, "train.augment.elastic_sigma must be in (0, 14]"),
        ({"thickness": 2}, "train.augment.thickness must be in [0, 1]"),
    ],
)
def test_bad_augmentation_settings_name_the_key_and_range(settings, named):
    with pytest.raises(ConfigError) as info:
        AugmentSpec(**settings)
    assert named in str(info.value)
