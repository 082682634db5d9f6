"""The run lifecycle on its own: how a run opens, locks its checkpoint, resumes and ends, against
a throwaway sqlite store (no training: the blocks log what a run would)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from experiments import lifecycle
from experiments.checkpoints import RUN_ID_FILE, claim
from experiments.cli import Interrupted
from experiments.lease import LEASE_FILE, Lease, LeaseHeld, read_holder
from experiments.lifecycle import (
    CHECKPOINT_TAG,
    ENDED_TAG,
    HOST_TAG,
    INTERRUPTED_TAG,
    PARENT_TAG,
    RecordingFailed,
    RunInProgress,
    Start,
    ending_parent,
    training_run,
)
from experiments.schema import TrackingConfig
from experiments.tracking import connect


@pytest.fixture(scope="module")
def experiment_id(tmp_path_factory) -> str:
    """One store for the module: creating a sqlite store takes seconds."""
    root = tmp_path_factory.mktemp("store")
    return connect(TrackingConfig(f"sqlite:///{root}/mlflow.db", "t", str(root / "a")))


def start(experiment_id: str, folder: Path, **changes) -> Start:
    return Start(experiment_id, "job", {}, folder, epochs=5, **changes)


def checkpoint(tmp_path: Path) -> Path:
    """A folder named uniquely, as a config's hash names it: runs are found by that name."""
    return tmp_path / tmp_path.name


def status(run_id: str) -> str:
    return MlflowClient().get_run(run_id).info.status


def test_a_run_that_completes_ends_finished_and_removes_its_checkpoint(experiment_id, tmp_path):
    folder = checkpoint(tmp_path)
    with training_run(start(experiment_id, folder)) as run:
        mlflow.log_metric("m", 1.0)
        assert (folder / RUN_ID_FILE).read_text() == run.run_id
    assert status(run.run_id) == "FINISHED"
    assert not folder.exists()


def test_a_run_that_raises_ends_failed_keeps_its_logs_and_its_checkpoint(experiment_id, tmp_path):
    folder = checkpoint(tmp_path)
    with pytest.raises(RuntimeError), training_run(start(experiment_id, folder)) as run:
        mlflow.log_metric("before", 1.0)
        raise RuntimeError("boom\nsecond line")
    recorded = MlflowClient().get_run(run.run_id)
    assert recorded.info.status == "FAILED"
    assert recorded.data.metrics["before"] == 1.0
    assert recorded.data.tags["error"] == "RuntimeError: boom"
    assert (folder / RUN_ID_FILE).read_text() == run.run_id
    assert not (folder / LEASE_FILE).exists()


@pytest.mark.parametrize(
    ("raised", "signal_name", "code"),
    [(KeyboardInterrupt(), "SIGINT", 130), (Interrupted(signal.SIGTERM), "SIGTERM", 143)],
    ids=["ctrl-c", "sigterm"],
)
def test_an_interrupted_run_ends_killed_and_says_how_to_continue(
    experiment_id, tmp_path, raised, signal_name, code
):
    folder = checkpoint(tmp_path)
    with (
        pytest.raises(Interrupted) as interrupted,
        training_run(start(experiment_id, folder)) as run,
    ):
        (folder / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')  # as fit does
        raise raised
    assert str(interrupted.value) == (
        "interrupted after epoch 2 of 5: run the same command to continue"
    )
    assert interrupted.value.exit_code == code
    recorded = MlflowClient().get_run(run.run_id)
    assert recorded.info.status == "KILLED"
    assert recorded.data.tags[INTERRUPTED_TAG] == signal_name


def test_a_signal_while_the_run_opens_ends_that_run_killed_and_the_next_start_continues_it(
    experiment_id, tmp_path, monkeypatch
):
    folder = checkpoint(tmp_path)

    def claim_after_ctrl_c(folder: Path, run_id: str) -> None:
        signal.raise_signal(signal.SIGINT)  # between opening the run and recording its id
        claim(folder, run_id)

    monkeypatch.setattr(lifecycle, "claim", claim_after_ctrl_c)
    with pytest.raises(Interrupted), training_run(start(experiment_id, folder)):
        pytest.fail("the run's block must not start once it was interrupted")
    opened = (folder / RUN_ID_FILE).read_text()
    assert status(opened) == "KILLED"
    monkeypatch.undo()
    with training_run(start(experiment_id, folder)) as again:
        assert again.resumed
    assert again.run_id == opened


def test_the_same_config_again_reopens_the_interrupted_run_without_its_end_tags(
    experiment_id, tmp_path
):
    folder = checkpoint(tmp_path)
    with pytest.raises(RuntimeError), training_run(start(experiment_id, folder)) as first:
        raise RuntimeError("bad csv")
    with training_run(start(experiment_id, folder)) as again:
        assert again.resumed
    assert again.run_id == first.run_id
    recorded = MlflowClient().get_run(first.run_id)
    assert recorded.info.status == "FINISHED"
    assert "error" not in recorded.data.tags


def test_a_second_start_of_a_live_run_stops_naming_it(experiment_id, tmp_path):
    folder = checkpoint(tmp_path)
    with training_run(start(experiment_id, folder)) as live:
        busy = f"already being trained \\(run {live.run_id}, pid"
        with pytest.raises(RunInProgress, match=busy), training_run(start(experiment_id, folder)):
            pass  # never reached
        assert status(live.run_id) == "RUNNING"
    runs = MlflowClient().search_runs([experiment_id], f"tags.`{CHECKPOINT_TAG}` = '{folder.name}'")
    assert [r.info.run_id for r in runs] == [live.run_id]


def test_a_sweep_job_with_the_settings_of_a_live_one_gets_its_own_run(experiment_id, tmp_path):
    folder = checkpoint(tmp_path)
    twin = Lease(folder)  # what a live job of the same settings holds
    twin.acquire()
    parent = MlflowClient().create_run(experiment_id).info.run_id
    with training_run(start(experiment_id, folder, parent_run_id=parent)) as job:
        assert job.folder == tmp_path / f"{folder.name}-1"
    twin.release()
    assert status(job.run_id) == "FINISHED"


def test_train_resume_false_ends_the_recorded_running_run_killed_and_starts_anew(
    experiment_id, tmp_path
):
    folder = checkpoint(tmp_path)
    orphan = left_running_by_a_dead_process(experiment_id, folder)
    with training_run(start(experiment_id, folder, resume=False)) as fresh:
        assert not fresh.resumed
    assert fresh.run_id != orphan
    ended = MlflowClient().get_run(orphan)
    assert ended.info.status == "KILLED"
    assert "train.resume=false" in ended.data.tags[ENDED_TAG]


def test_a_run_left_running_whose_checkpoint_was_deleted_ends_killed_at_the_next_start(
    experiment_id, tmp_path
):
    folder = checkpoint(tmp_path)
    orphan = left_running_by_a_dead_process(experiment_id, folder)
    for entry in folder.iterdir():
        entry.unlink()
    folder.rmdir()
    with training_run(start(experiment_id, folder)) as fresh:
        pass
    assert fresh.run_id != orphan
    ended = MlflowClient().get_run(orphan)
    assert ended.info.status == "KILLED"
    assert "its process died" in ended.data.tags[ENDED_TAG]


def test_a_checkpoint_of_a_deleted_run_starts_a_new_run_with_a_warning(
    experiment_id, tmp_path, caplog
):
    folder = checkpoint(tmp_path)
    (folder).mkdir()
    (folder / "latest.weights.h5").write_bytes(b"weights")
    gone = MlflowClient().create_run(experiment_id).info.run_id
    MlflowClient().delete_run(gone)
    (folder / RUN_ID_FILE).write_text(gone)
    with training_run(start(experiment_id, folder)) as fresh:
        assert not (folder / "latest.weights.h5").exists()
    assert fresh.run_id != gone and not fresh.resumed
    assert f"belongs to run {gone}, which the tracking store does not hold" in caplog.text


def test_a_checkpoint_of_a_deleted_run_keeps_its_weights_when_asked(experiment_id, tmp_path):
    folder = checkpoint(tmp_path)
    (folder).mkdir()
    (folder / "latest.weights.h5").write_bytes(b"weights")
    (folder / RUN_ID_FILE).write_text("not-a-run-id")
    with training_run(start(experiment_id, folder, resume_orphan=True)) as fresh:
        assert (folder / "latest.weights.h5").read_bytes() == b"weights"
        assert (folder / RUN_ID_FILE).read_text() == fresh.run_id


def test_a_rerun_records_only_what_an_earlier_attempt_did_not(experiment_id, tmp_path):
    folder = checkpoint(tmp_path)
    calls = []
    refused = "fix that and run the same command to finish it"
    with (
        pytest.raises(RecordingFailed, match=refused),
        training_run(start(experiment_id, folder)) as run,
    ):
        run.once("model", lambda: calls.append("model") or "model-id")
        raise OSError("read-only file system")
    with training_run(start(experiment_id, folder)) as again:
        assert again.once("model", lambda: calls.append("model again") or "other") == "model-id"
        again.once("metrics", lambda: calls.append("metrics"))
    assert calls == ["model", "metrics"]


def left_running_by_a_dead_process(experiment_id: str, folder: Path) -> str:
    """What a hard kill leaves: a RUNNING run of this host, its id and a stale lease in the
    checkpoint folder."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    pid = int(dead.stdout)
    tags = {HOST_TAG: socket.gethostname(), "handrec.pid": str(pid), CHECKPOINT_TAG: folder.name}
    run_id = MlflowClient().create_run(experiment_id, tags=tags).info.run_id
    folder.mkdir(parents=True)
    (folder / RUN_ID_FILE).write_text(run_id)
    holder = {"pid": pid, "host": socket.gethostname(), "run_id": run_id, "expires": 4e9}
    (folder / LEASE_FILE).write_text(json.dumps(holder))
    return run_id


def test_a_lease_is_refused_while_its_holder_lives(tmp_path):
    first = Lease(tmp_path)
    first.acquire()
    first.note("abc")
    with pytest.raises(LeaseHeld, match=f"run abc, pid {os.getpid()} on {socket.gethostname()}"):
        Lease(tmp_path).acquire()
    first.release()
    assert not (tmp_path / LEASE_FILE).exists()


def test_a_lease_of_a_dead_process_of_this_host_is_taken_over(tmp_path):
    holder = {"pid": 2**22 + 1, "host": socket.gethostname(), "run_id": None, "expires": 4e9}
    (tmp_path / LEASE_FILE).write_text(json.dumps(holder))
    lease = Lease(tmp_path)
    lease.acquire()
    assert read_holder(tmp_path / LEASE_FILE).pid == os.getpid()
    lease.release()


def test_a_lease_of_another_host_is_honoured_until_it_expires(tmp_path):
    holder = {"pid": 1, "host": "elsewhere", "run_id": None, "expires": time.time() + 60}
    (tmp_path / LEASE_FILE).write_text(json.dumps(holder))
    with pytest.raises(LeaseHeld, match="pid 1 on elsewhere"):
        Lease(tmp_path).acquire()
    (tmp_path / LEASE_FILE).write_text(json.dumps(holder | {"expires": time.time() - 1}))
    lease = Lease(tmp_path)
    lease.acquire()
    assert read_holder(tmp_path / LEASE_FILE).host == socket.gethostname()
    lease.release()


def test_a_live_lease_is_renewed_before_it_expires(tmp_path):
    lease = Lease(tmp_path, ttl_s=0.5, renew_s=0.1)
    lease.acquire()
    time.sleep(1.0)
    with pytest.raises(LeaseHeld):
        Lease(tmp_path).acquire()
    lease.release()


def test_a_parent_ends_by_its_children_or_killed_when_interrupted(experiment_id):
    from experiments.sweep import ParentRun

    done = ParentRun.open(experiment_id, "sweep", {})
    with ending_parent(done, experiment_id):
        MlflowClient().create_run(experiment_id, tags={"mlflow.parentRunId": done.run_id})
    assert status(done.run_id) == "KILLED"  # its one child is still RUNNING
    cut = ParentRun.open(experiment_id, "sweep", {})
    with pytest.raises(KeyboardInterrupt), ending_parent(cut, experiment_id):
        raise KeyboardInterrupt
    assert status(cut.run_id) == "KILLED"


def test_a_parent_a_dead_process_left_running_ends_killed_when_another_starts(experiment_id):
    from experiments.sweep import ParentRun

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    tags = {
        PARENT_TAG: "parent",
        HOST_TAG: socket.gethostname(),
        "handrec.pid": dead.stdout.strip(),
    }
    left = MlflowClient().create_run(experiment_id, tags=tags).info.run_id
    with ending_parent(ParentRun.open(experiment_id, "sweep", {}), experiment_id):
        pass
    ended = MlflowClient().get_run(left)
    assert ended.info.status == "KILLED" and "its process died" in ended.data.tags[ENDED_TAG]
