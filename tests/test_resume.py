"""Interrupt a fit after an epoch, fit again with the same folder: it carries on, and ends
exactly where an uninterrupted fit ends."""

import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from handrec.models import build_model
from handrec.models.seed_cnn import SeedCnnParams
from handrec.training.augment import AugmentSpec
from handrec.training.checkpoint import CheckpointError
from handrec.training.fit import TrainSpec, fit
from tests.test_training import toy

SPEC = TrainSpec(
    epochs=3, batch_size=16, verbose=0, deterministic=True, augment=AugmentSpec(rotation=10)
)
TRAIN, VAL = toy(48, 0), toy(16, 1)


class InterruptAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == 0:
            raise KeyboardInterrupt


def fresh_model(filters: int = 2) -> keras.Model:
    """As a new process would build it: same seed, same initial state."""
    keras.utils.set_random_seed(0)
    return build_model(SeedCnnParams(filters=filters, dense_units=4), 2)


@pytest.fixture(scope="module")
def backup(tmp_path_factory) -> Path:
    """The folder a fit interrupted after its first epoch left behind."""
    folder = tmp_path_factory.mktemp("interrupted") / "checkpoint"
    with pytest.raises(KeyboardInterrupt):
        fit(
            fresh_model(),
            TRAIN,
            VAL,
            SPEC,
            callbacks=[InterruptAfterFirstEpoch()],
            checkpoint_dir=folder,
        )
    return folder


def copy_of(backup: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(backup, tmp_path / "checkpoint"))


def test_a_resumed_fit_runs_the_remaining_epochs_and_matches_an_uninterrupted_one(backup, tmp_path):
    whole = fresh_model()
    uninterrupted = fit(whole, TRAIN, VAL, SPEC, checkpoint_dir=tmp_path / "whole")
    folder = copy_of(backup, tmp_path)
    resumed_model = fresh_model()
    resumed = fit(resumed_model, TRAIN, VAL, SPEC, checkpoint_dir=folder)

    assert resumed.epochs == [2, 3]
    assert resumed["val_loss"] == uninterrupted["val_loss"][1:]
    for a, b in zip(whole.get_weights(), resumed_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not folder.exists()  # a completed fit leaves no backup behind


def test_a_checkpoint_of_another_architecture_is_refused_and_left_alone(backup, tmp_path):
    folder = copy_of(backup, tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(CheckpointError, match="written by model seed_cnn .* not by model"):
        fit(fresh_model(filters=3), TRAIN, VAL, SPEC, checkpoint_dir=folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_corrupt_checkpoint_is_reported(backup, tmp_path):
    folder = copy_of(backup, tmp_path)
    (folder / "latest.weights.h5").write_bytes(b"not a weights file")
    with pytest.raises(CheckpointError, match="unreadable .* delete the folder"):
        fit(fresh_model(), TRAIN, VAL, SPEC, checkpoint_dir=folder)
