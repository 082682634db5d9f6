"""Interrupt a fit after an epoch, fit again with the same folder: it carries on, and ends
exactly where an uninterrupted fit ends, early stopping and plateau schedule included."""

import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from handrec.models import build_model
from handrec.models.seed_cnn import SeedCnnParams
from handrec.training.augment import AugmentSpec
from handrec.training.checkpoint import CheckpointError, completed_epochs
from handrec.training.fit import History, TrainSpec, fit
from handrec.training.schedules import ScheduleSpec
from tests.test_training import toy

SPEC = TrainSpec(
    epochs=3, batch_size=16, verbose=0, deterministic=True, augment=AugmentSpec(rotation=10)
)
# Validation accuracy peaks at epoch 2: the plateau schedule halves the rate after epochs 3
# and 4, and early stopping ends the fit after epoch 4, restoring epoch 2's weights.
PATIENT = TrainSpec(
    epochs=8,
    batch_size=16,
    verbose=0,
    deterministic=True,
    learning_rate=0.01,
    early_stopping=2,
    schedule=ScheduleSpec("plateau", patience=1, factor=0.5),
)
TRAIN, VAL = toy(48, 0), toy(16, 1)


class InterruptAfter(keras.callbacks.Callback):
    """Ctrl-C once an epoch (1-based) is backed up: as the next one begins or, when the fit
    ends with it, as the fit ends."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == self.epoch:
            raise KeyboardInterrupt

    def on_train_end(self, logs: dict | None = None) -> None:
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
            callbacks=[InterruptAfter(1)],
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
    assert completed_epochs(folder) == 3  # kept for whoever records the model


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


def test_a_corrupt_callback_state_is_refused_naming_the_file(backup, tmp_path):
    folder = copy_of(backup, tmp_path)
    (folder / "callbacks.npz").write_bytes(b"not an npz file")
    with pytest.raises(CheckpointError, match=r"callbacks\.npz is unreadable .* delete the folder"):
        fit(fresh_model(), TRAIN, VAL, SPEC, checkpoint_dir=folder)


def test_a_callback_state_of_another_epoch_than_the_backup_is_refused(tmp_path):
    folder = tmp_path / "checkpoint"
    with pytest.raises(KeyboardInterrupt):
        fit(
            fresh_model(), TRAIN, VAL, PATIENT, callbacks=[InterruptAfter(1)], checkpoint_dir=folder
        )
    (folder / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    with pytest.raises(CheckpointError, match=r"callbacks\.npz is of epoch 1, .* of epoch 2"):
        fit(fresh_model(), TRAIN, VAL, PATIENT, checkpoint_dir=folder)


def test_without_remembering_callbacks_a_kill_between_backup_and_state_is_no_obstacle(
    backup, tmp_path
):
    folder = copy_of(backup, tmp_path)
    (folder / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    assert fit(fresh_model(), TRAIN, VAL, SPEC, checkpoint_dir=folder).epochs == [3]


def test_resuming_with_early_stopping_a_fit_that_had_none_is_refused(backup, tmp_path):
    folder = copy_of(backup, tmp_path)
    with pytest.raises(CheckpointError, match="written with no early stopping .* has early_stop"):
        fit(fresh_model(), TRAIN, VAL, PATIENT, checkpoint_dir=folder)


@pytest.fixture(scope="module")
def patient(tmp_path_factory) -> tuple[History, list[np.ndarray]]:
    """An uninterrupted fit with early stopping and the plateau schedule: history, weights."""
    model = fresh_model()
    folder = tmp_path_factory.mktemp("patient") / "checkpoint"
    history = fit(model, TRAIN, VAL, PATIENT, checkpoint_dir=folder)
    assert history.epochs == [1, 2, 3, 4]
    assert history["learning_rate"] == pytest.approx([0.01, 0.01, 0.01, 0.005])
    return history, model.get_weights()


@pytest.mark.parametrize("interrupted_after", [3, 4], ids=["while waiting", "having stopped"])
def test_a_resumed_fit_stops_and_lowers_the_rate_at_the_epochs_of_an_uninterrupted_one(
    patient, interrupted_after, tmp_path
):
    uninterrupted, weights = patient
    folder = tmp_path / "checkpoint"
    with pytest.raises(KeyboardInterrupt):
        fit(
            fresh_model(),
            TRAIN,
            VAL,
            PATIENT,
            callbacks=[InterruptAfter(interrupted_after)],
            checkpoint_dir=folder,
        )
    model = fresh_model()
    resumed = fit(model, TRAIN, VAL, PATIENT, checkpoint_dir=folder)

    assert resumed.epochs == uninterrupted.epochs[interrupted_after:]
    for metric in ("val_loss", "val_accuracy", "learning_rate"):
        assert resumed.get(metric, []) == uninterrupted[metric][interrupted_after:]
    for a, b in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_fitting_again_from_a_completed_backup_runs_no_epoch_and_restores_its_weights(
    backup, tmp_path
):
    folder = copy_of(backup, tmp_path)
    done = fresh_model()
    fit(done, TRAIN, VAL, SPEC, checkpoint_dir=folder)
    again = fresh_model()
    history = fit(again, TRAIN, VAL, SPEC, checkpoint_dir=folder)

    assert history.epochs == []
    for a, b in zip(done.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
