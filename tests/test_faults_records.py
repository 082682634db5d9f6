"""Faults after which the next start must put the record right: a store that refuses writes
after training, a run left RUNNING by a hard kill that the user starts afresh from, a first
attempt that failed before training, a checkpoint whose run was deleted."""

from __future__ import annotations

import logging
import shutil
import signal
from contextlib import ExitStack
from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest

from experiments.job import run
from experiments.lifecycle import RecordingFailed
from handrec.errors import DataError
from handrec.training.checkpoint import completed_epochs
from tests.conftest import read_only
from tests.test_faults_signals import (
    ARGS,
    Job,
    checkpoints,
    client,
    epochs_backed_up,
    only_run,
    runs,
    steps,
    store_args,
)

pytestmark = pytest.mark.slow


class EpochCounter(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.epochs = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs += 1


class ArtifactsReadOnlyAfterTraining(keras.callbacks.Callback):
    """The run's artifact folder turns read-only once the last epoch is backed up."""

    def __init__(self, stack: ExitStack) -> None:
        super().__init__()
        self.stack = stack

    def on_train_end(self, logs=None):
        folder = Path(mlflow.active_run().info.artifact_uri.removeprefix("file://"))
        self.stack.enter_context(read_only(folder))


class CtrlCAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise KeyboardInterrupt


def test_a_store_refusing_writes_after_training_loses_nothing_and_the_rerun_only_records(
    compose_config, tmp_path
):
    cfg = compose_config(*ARGS, *store_args(tmp_path), "train.epochs=2", "train.verbose=0")
    with ExitStack() as stack, pytest.raises(RecordingFailed, match="fix that and run the same"):
        run(cfg, callbacks=[ArtifactsReadOnlyAfterTraining(stack)])
    failed = only_run(tmp_path)
    assert failed.info.status == "FAILED"
    (folder,) = checkpoints(tmp_path)
    assert completed_epochs(folder) == 2

    counter = EpochCounter()
    run(cfg, callbacks=[counter])
    finished = only_run(tmp_path)
    assert counter.epochs == 0
    assert finished.info.run_id == failed.info.run_id and finished.info.status == "FINISHED"
    assert "error" not in finished.data.tags and "resumed_at_epoch" not in finished.data.tags
    assert steps(tmp_path, finished) == [1, 2]
    assert steps(tmp_path, finished, "test_accuracy") == [0]
    names = {a.path for a in client(tmp_path).list_artifacts(finished.info.run_id)}
    assert {"keras", "classification_report.txt", "confusion_matrix.png"} <= names


@pytest.fixture(scope="module")
def hard_killed(tmp_path_factory) -> list[tuple[Path, str]]:
    """Two stores, each with a run that SIGKILL stopped after its first epoch; (root, run id)."""
    roots = [tmp_path_factory.mktemp("killed") for _ in range(2)]
    jobs = [Job(root) for root in roots]
    for root, job in zip(roots, jobs, strict=True):
        job.signal_when(epochs_backed_up(root, 1), signal.SIGKILL)
    for job in jobs:
        assert job.wait().run.info.status == "RUNNING"
    return [(root, only_run(root).info.run_id) for root in roots]


def test_starting_afresh_with_resume_false_ends_a_hard_killed_run_killed(
    compose_config, hard_killed
):
    root, orphan = hard_killed[0]
    run(compose_config(*ARGS, *store_args(root), "train.resume=false", "train.epochs=1"))
    by_id = {r.info.run_id: r for r in runs(root)}
    assert len(by_id) == 2
    assert by_id[orphan].info.status == "KILLED"
    assert "train.resume=false" in by_id[orphan].data.tags["handrec.ended"]
    (fresh,) = [r for i, r in by_id.items() if i != orphan]
    assert fresh.info.status == "FINISHED" and steps(root, fresh) == [1]


def test_a_hard_killed_run_whose_checkpoint_was_deleted_ends_killed_at_the_next_start(
    compose_config, hard_killed
):
    root, orphan = hard_killed[1]
    for folder in checkpoints(root):
        shutil.rmtree(folder)
    run(compose_config(*ARGS, *store_args(root), "train.epochs=1"))
    by_id = {r.info.run_id: r for r in runs(root)}
    assert by_id[orphan].info.status == "KILLED"
    assert "its process died" in by_id[orphan].data.tags["handrec.ended"]
    assert {r.info.status for i, r in by_id.items() if i != orphan} == {"FINISHED"}


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def letters_csv(path: Path, per_class: int = 12, broken: bool = False) -> Path:
    rng = np.random.default_rng(0)
    rows = [
        ",".join(map(str, [label, *rng.integers(0, 256, 784)]))
        for label in range(26)
        for _ in range(per_class)
    ]
    if broken:
        rows.insert(5, "3,0,0")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_run_whose_first_attempt_failed_reading_its_data_ends_like_an_uninterrupted_one(
    compose_config, tmp_path
):
    csv = letters_csv(tmp_path / "letters.csv", broken=True)
    overrides = [
        *(o for o in ARGS if not o.startswith("data.sources.sample")),
        *store_args(tmp_path),
        "data=az_csv",
        f"data.sources.az_csv.path={csv}",
        f"classes={LETTERS}",
        "train.epochs=1",
    ]
    with pytest.raises(DataError, match="line 6"):
        run(compose_config(*overrides))
    assert only_run(tmp_path).info.status == "FAILED"

    letters_csv(csv)  # the user fixes the file
    run(compose_config(*overrides))
    finished = only_run(tmp_path)
    assert finished.info.status == "FINISHED"
    assert not {"error", "resumed_at_epoch"} & set(finished.data.tags)
    assert {"data.n_train", "data.n_test", "model.parameters", "model.flops"} <= set(
        finished.data.params
    )
    assert steps(tmp_path, finished) == [1]


@pytest.fixture
def deleted(compose_config, tmp_path):
    """A run interrupted in its second epoch, then deleted (as in the UI): its checkpoint
    stays. Returns a composer of the same config, and the deleted run's id."""

    def compose(*extra: str):
        return compose_config(*ARGS, *store_args(tmp_path), "train.epochs=2", *extra)

    with pytest.raises(BaseException, match="interrupted after epoch 1 of 2"):
        run(compose(), callbacks=[CtrlCAtEpoch(2)])
    gone = only_run(tmp_path).info.run_id
    client(tmp_path).delete_run(gone)
    return compose, gone


def test_a_checkpoint_whose_run_was_deleted_starts_a_new_run_saying_so(deleted, tmp_path, caplog):
    compose, gone = deleted
    with caplog.at_level(logging.WARNING):
        run(compose())
    assert f"belongs to run {gone}, which the tracking store does not hold" in caplog.text
    (fresh,) = runs(tmp_path)
    assert fresh.info.run_id != gone and fresh.info.status == "FINISHED"
    assert steps(tmp_path, fresh) == [1, 2] and "resumed_at_epoch" not in fresh.data.tags


def test_a_checkpoint_whose_run_was_deleted_gives_its_weights_to_a_new_run_when_asked(
    deleted, tmp_path
):
    compose, gone = deleted
    run(compose("train.resume_orphan=true"))
    (fresh,) = runs(tmp_path)
    assert fresh.info.run_id != gone and fresh.info.status == "FINISHED"
    assert steps(tmp_path, fresh) == [2] and fresh.data.tags["resumed_at_epoch"] == "2"
