"""Faults injected into the real `python -m experiments.run`: Ctrl-C, SIGTERM and SIGKILL at
each phase of a run, and two identical commands at once. After each, the MLflow record must
tell the truth, and running the same command again must finish the run without losing or
repeating anything."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Run

from handrec.training.checkpoint import completed_epochs
from tests.conftest import TINY

pytestmark = pytest.mark.slow

EPOCHS = 3
# Epochs of about a second (45 steps), so that a signal sent during one lands in it.
ARGS = [
    *(o for o in TINY if o.split("=")[0] not in ("train.epochs", "train.batch_size")),
    "data.sources.sample.digits_per_class=40",
    "data.sources.sample.letters_per_class=40",
    f"train.epochs={EPOCHS}",
    "train.batch_size=16",
    "train.verbose=2",
]


@dataclass
class Ended:
    """What a process left: its exit status, its output, and the store's only run after it."""

    returncode: int
    stdout: str
    stderr: str
    run: Run | None


class Job:
    """`python -m experiments.run ARGS` on the store and checkpoints under `root`."""

    def __init__(self, root: Path, *extra: str, flags: tuple[str, ...] = ()) -> None:
        self.root = root
        self.out = (root / f"out-{time.monotonic_ns()}.txt").open("w+")
        self.err = (root / f"err-{time.monotonic_ns()}.txt").open("w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "experiments.run", *flags, *ARGS, *store_args(root), *extra],
            cwd=root,
            stdout=self.out,
            stderr=self.err,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"},
        )

    def signal_when(self, ready: Callable[[], bool], signum: int, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if self.process.poll() is not None:
                pytest.fail(f"the run ended before the signal was due:\n{self.read(self.err)}")
            if time.monotonic() > deadline:
                pytest.fail("the run never reached the phase the signal was due in")
            time.sleep(0.02)
        self.process.send_signal(signum)

    def wait(self, timeout: float = 240) -> Ended:
        returncode = self.process.wait(timeout)
        return Ended(returncode, self.read(self.out), self.read(self.err), only_run(self.root))

    @staticmethod
    def read(file) -> str:
        file.flush()
        file.seek(0)
        return file.read()


def store_args(root: Path) -> list[str]:
    return [
        f"tracking.uri=sqlite:///{root}/mlflow.db",
        f"tracking.artifact_root={root}/artifacts",
        "tracking.experiment=faults",
        f"checkpoints={root}/ck",
    ]


def client(root: Path) -> MlflowClient:
    return MlflowClient(f"sqlite:///{root}/mlflow.db")


def runs(root: Path) -> list[Run]:
    experiment = client(root).get_experiment_by_name("faults")
    return [] if experiment is None else client(root).search_runs([experiment.experiment_id])


def only_run(root: Path) -> Run | None:
    found = runs(root)
    assert len(found) <= 1, [r.info.run_id for r in found]
    return found[0] if found else None


def checkpoints(root: Path) -> list[Path]:
    return list((root / "ck").glob("*")) if (root / "ck").exists() else []


def run_opened(root: Path) -> Callable[[], bool]:
    return lambda: any((folder / "mlflow_run_id").exists() for folder in checkpoints(root))


def epochs_backed_up(root: Path, count: int) -> Callable[[], bool]:
    return lambda: any(completed_epochs(folder) >= count for folder in checkpoints(root))


def steps(root: Path, run: Run, metric: str = "val/accuracy") -> list[int]:
    return [m.step for m in client(root).get_metric_history(run.info.run_id, metric)]


@pytest.fixture(scope="module")
def attempts(tmp_path_factory) -> tuple[Path, dict[str, Ended]]:
    """One config, started four times: Ctrl-C before its first epoch ends, SIGTERM during the
    second epoch, SIGKILL once the last epoch is backed up (while it evaluates and records),
    then left to finish."""
    root = tmp_path_factory.mktemp("faults")
    ended = {}
    job = Job(root)
    job.signal_when(run_opened(root), signal.SIGINT)
    ended["sigint"] = job.wait()
    job = Job(root)
    job.signal_when(epochs_backed_up(root, 1), signal.SIGTERM)
    ended["sigterm"] = job.wait()
    job = Job(root)
    job.signal_when(epochs_backed_up(root, EPOCHS), signal.SIGKILL)
    ended["sigkill"] = job.wait()
    ended["rerun"] = Job(root).wait()
    return root, ended


def test_ctrl_c_before_the_first_epoch_ends_the_run_killed_in_one_line(attempts):
    _, ended = attempts
    sigint = ended["sigint"]
    assert sigint.returncode == 130
    assert sigint.stderr.strip().splitlines()[-1] == (
        "interrupted before the first epoch ended: run the same command to continue"
    )
    assert "Traceback" not in sigint.stderr
    assert sigint.run.info.status == "KILLED"
    assert sigint.run.data.tags["handrec.interrupted"] == "SIGINT"


def test_sigterm_during_an_epoch_ends_the_same_run_killed_and_keeps_its_checkpoint(attempts):
    root, ended = attempts
    sigterm = ended["sigterm"]
    assert sigterm.returncode == 143
    last = sigterm.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"interrupted after epoch [12] of 3: run the same command to continue", last
    )
    assert "Traceback" not in sigterm.stderr
    assert sigterm.run.info.run_id == ended["sigint"].run.info.run_id
    assert sigterm.run.info.status == "KILLED"
    assert sigterm.run.data.tags["handrec.interrupted"] == "SIGTERM"


def test_sigkill_while_recording_leaves_the_run_running_for_the_next_start(attempts):
    _, ended = attempts
    sigkill = ended["sigkill"]
    assert sigkill.returncode == -signal.SIGKILL
    assert sigkill.run.info.status == "RUNNING"


def test_the_next_start_finishes_the_same_run_without_training_again(attempts):
    root, ended = attempts
    rerun = ended["rerun"]
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert rerun.run.info.run_id == ended["sigint"].run.info.run_id
    assert rerun.run.info.status == "FINISHED"
    assert "Epoch " not in rerun.stdout  # no epoch ran: all three were backed up
    assert checkpoints(root) == []


def test_the_finished_record_equals_an_uninterrupted_one(attempts):
    root, ended = attempts
    run = ended["rerun"].run
    for metric in ("val/accuracy", "train/loss", "train/log10_learning_rate"):
        assert steps(root, run, metric) == [1, 2, 3], metric
    assert steps(root, run, "test_accuracy") == [0]
    tags = run.data.tags
    assert not {"error", "handrec.interrupted", "handrec.ended"} & set(tags)
    assert tags["resumed_at_epoch"] in ("2", "3")
    params = run.data.params
    assert {"data.n_train", "model.parameters", "model.flops", "model.filters"} <= set(params)
    names = {a.path for a in client(root).list_artifacts(run.info.run_id)}
    assert {
        "config.yaml",
        "classification_report.txt",
        "confusion_matrix.png",
        "learning_curves.png",
        "keras",
    } <= names


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> tuple[Path, list[Ended]]:
    """The same command started twice at once, on a fresh store."""
    root = tmp_path_factory.mktemp("twins")
    jobs = [Job(root), Job(root)]
    return root, [job.wait() for job in jobs]


def test_the_same_command_started_twice_trains_once_and_stops_the_other_in_one_line(twins):
    root, ended = twins
    assert sorted(e.returncode for e in ended) == [0, 2], [e.stderr[-1500:] for e in ended]
    stopped = next(e for e in ended if e.returncode == 2)
    (run,) = runs(root)
    assert (
        stopped.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: this config is already being trained (run {run.info.run_id}, pid ")
    )
    assert run.info.status == "FINISHED"
    assert steps(root, run) == [1, 2, 3]


def test_sigterm_during_a_sweep_ends_its_job_and_its_parent_killed(tmp_path):
    job = Job(tmp_path, "seed=0,1", f"hydra.sweep.dir={tmp_path}/multirun", flags=("--multirun",))
    job.signal_when(epochs_backed_up(tmp_path, 1), signal.SIGTERM)
    assert job.process.wait(240) == 143
    assert re.match(r"interrupted after epoch \d of 3", Job.read(job.err).strip().splitlines()[-1])
    by_kind = {r.data.tags.get("handrec.sweep", "job"): r for r in runs(tmp_path)}
    assert sorted(by_kind) == ["job", "parent"]  # the second job never started
    assert by_kind["parent"].info.status == by_kind["job"].info.status == "KILLED"
