"""The one run lifecycle: how a training run or a parent run opens, lives and ends.

`training_run` owns everything between a config and its MLflow record: the lock on the
config's checkpoint folder (one live process per run), the choice between resuming an earlier
run and starting a new one, ending runs that a dead process left RUNNING, the run's tags, and
its end: FINISHED (the checkpoint then goes), FAILED with an `error` tag, or KILLED on Ctrl-C or
SIGTERM, the checkpoint kept so that the same command continues. `ending_parent` ends a sweep's,
search's or repeat's parent run the same way.

What a start decides, by what the checkpoint folder holds:

- nothing: a new run;
- the id of a run that is not FINISHED (killed, failed, or RUNNING after a hard kill): that run
  reopens and continues where its checkpoint left it;
- the id of a FINISHED run (the process died while removing the folder): a new run;
- the id of a run the store does not hold (deleted in the UI, another store): one warning line,
  then a new run, from the checkpoint's weights only with `train.resume_orphan=true`;
- with `train.resume=false`: a new run; the recorded one, if RUNNING, ends KILLED.

Any other run of the same checkpoint folder still RUNNING on this host is an orphan of a dead
process (a live one would hold the lock): it ends KILLED, with a tag saying why.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import mlflow
from mlflow.entities import Run
from mlflow.exceptions import MlflowException

from experiments import parents
from experiments.checkpoints import RUN_ID_FILE, claim, interrupted_run
from experiments.cli import Interrupted, interruption
from experiments.lease import LEASE_FILE, Lease, LeaseHeld, alive
from experiments.record import PARENT_TAG
from handrec.errors import HandrecError, first_line
from handrec.signals import signals_deferred
from handrec.training.checkpoint import completed_epochs

log = logging.getLogger(__name__)

HOST_TAG = "handrec.host"
PID_TAG = "handrec.pid"
CHECKPOINT_TAG = "handrec.checkpoint"
ENDED_TAG = "handrec.ended"  # why a run was ended by another process than its own
INTERRUPTED_TAG = "handrec.interrupted"  # the signal that ended a KILLED run
ERROR_TAG = "error"
STALE_TAGS = (ERROR_TAG, ENDED_TAG, INTERRUPTED_TAG)  # of an earlier attempt; gone on resume
RECORDED_FILE = "recorded.json"
MAX_TWINS = 64  # sweep jobs with identical settings running at once


class RunInProgress(HandrecError):
    """The same config is being trained by a live process."""


class RecordingFailed(HandrecError):
    """The store or a file system refused a write during the run; the run can be finished."""


@dataclass(frozen=True)
class Start:
    """What a training run is started with."""

    experiment_id: str
    name: str
    tags: Mapping[str, str]
    folder: Path  # the config's checkpoint folder
    epochs: int  # train.epochs, for the message of an interruption
    parent_run_id: str | None = None
    resume: bool = True
    resume_orphan: bool = False


@dataclass(frozen=True)
class TrainingRun:
    """A live run: its id, its checkpoint folder, and whether it continues an earlier one."""

    run_id: str
    folder: Path
    resumed: bool

    def once(self, step: str, record: Callable[[], str | None]) -> str | None:
        """`record()` unless an earlier attempt of this run did it; returns its value (such
        as a logged model's id) either way. A rerun after a failure while recording the
        results so does only what is missing."""
        done = self.recorded()
        if step not in done:
            done[step] = record()
            (self.folder / RECORDED_FILE).write_text(json.dumps(done))
        return done[step]

    def recorded(self) -> dict[str, str | None]:
        path = self.folder / RECORDED_FILE
        return json.loads(path.read_text()) if path.exists() else {}


@contextmanager
def training_run(start: Start) -> Iterator[TrainingRun]:
    """Opens (or reopens) the run of `start`, and ends it by how the block ends."""
    folder, lease = hold(start.folder, twins_allowed=start.parent_run_id is not None)
    run_id = None
    try:
        # Held back while the run opens: a signal then ends a run whose id the folder holds,
        # which the next start continues, never one that it cannot find.
        with signals_deferred():
            resume_id = choose_run(folder, start)
            end_orphans(start.experiment_id, folder, keep=resume_id)
            run_id = open_run(start, folder, resume_id)
            lease.note(run_id)
        yield TrainingRun(run_id, folder, resumed=resume_id is not None)
    except BaseException as exc:
        with signals_deferred():
            if run_id is not None:
                end_active(exc)
            lease.release()
        if run_id is None:
            raise
        if isinstance(exc, (KeyboardInterrupt, Interrupted)):
            raise interruption(exc, interrupted_message(folder, start.epochs)) from None
        if isinstance(exc, (OSError, MlflowException)):
            raise RecordingFailed(
                f"run {run_id} failed ({type(exc).__name__}: {first_line(exc)}); its checkpoint "
                f"{folder} is kept: fix that and run the same command to finish it"
            ) from exc
        raise
    with signals_deferred():
        mlflow.end_run("FINISHED")
        clear(folder)
        lease.release()
        _remove_if_empty(folder)


@contextmanager
def plain_run(experiment_id: str, name: str, tags: Mapping[str, str]) -> Iterator[str]:
    """A run that trains nothing and keeps no checkpoint (an evaluation): it ends FINISHED,
    or as `end_active` ends any run (KILLED when interrupted, FAILED with the error's line)."""
    run = mlflow.start_run(
        experiment_id=experiment_id, run_name=name, tags={**tags, **process_tags()}
    )
    try:
        yield run.info.run_id
    except BaseException as exc:
        end_active(exc)
        raise
    mlflow.end_run("FINISHED")


def hold(folder: Path, twins_allowed: bool) -> tuple[Path, Lease]:
    """The lease on the config's folder; a sweep job whose twin (identical settings) holds it
    takes the next free folder `<folder>-1`, `-2`, … and gets its own run."""
    candidates = [folder] + [
        folder.with_name(f"{folder.name}-{n}") for n in range(1, MAX_TWINS if twins_allowed else 1)
    ]
    for candidate in candidates:
        lease = Lease(candidate)
        try:
            lease.acquire()
            return candidate, lease
        except LeaseHeld as held:
            if not twins_allowed:
                raise RunInProgress(
                    f"this config is already being trained ({held.holder.describe()}; "
                    f"checkpoint {folder}): wait for it to end, or stop it first "
                    f"(kill {held.holder.pid})"
                ) from None
    raise RunInProgress(f"{MAX_TWINS} jobs with these settings are running already ({folder})")


def choose_run(folder: Path, start: Start) -> str | None:
    """The earlier run to continue, or None for a new one; clears what a new one must not
    inherit."""
    recorded = interrupted_run(folder)
    if recorded is None:
        clear(folder)  # a backup with no run (its process died before it opened one)
        return None
    earlier = find_run(recorded)
    if not start.resume:
        if earlier is not None and earlier.info.status == "RUNNING":
            end_orphan(recorded, "train.resume=false: a later start of its config began afresh")
        clear(folder)
        return None
    if earlier is None:
        keep = " (train.resume_orphan=true: continuing from its weights)"
        log.warning(
            "checkpoint %s belongs to run %s, which the tracking store does not hold (deleted?): "
            "starting a new run%s",
            folder,
            recorded,
            keep if start.resume_orphan else " (train.resume_orphan=true would reuse its weights)",
        )
        clear(folder, keep_backup=start.resume_orphan)
        return None
    if earlier.info.status == "FINISHED":
        clear(folder)
        return None
    return recorded


def find_run(run_id: str) -> Run | None:
    """The run, or None when the store does not hold it, or holds it deleted."""
    try:
        run = mlflow.MlflowClient().get_run(run_id)
    except MlflowException:
        return None
    return None if run.info.lifecycle_stage == "deleted" else run


def end_orphans(experiment_id: str, folder: Path, keep: str | None) -> None:
    """Ends KILLED every other run of this folder that a process of this host left RUNNING:
    this process holds the folder's lease, so none of them is alive."""
    client = mlflow.MlflowClient()
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{CHECKPOINT_TAG}` = '{folder.name}' and attributes.status = "
        "'RUNNING'",
    )
    for run in runs:
        if run.info.run_id != keep and run.data.tags.get(HOST_TAG) == socket.gethostname():
            end_orphan(
                run.info.run_id, "its process died; a later start of its config began afresh"
            )


def end_orphan(run_id: str, why: str) -> None:
    client = mlflow.MlflowClient()
    client.set_tag(run_id, ENDED_TAG, why)
    client.set_terminated(run_id, "KILLED")


def open_run(start: Start, folder: Path, resume_id: str | None) -> str:
    """Starts the run (or reopens `resume_id`, dropping its earlier attempt's end tags) and
    records its id in the folder."""
    tags = {**start.tags, **process_tags(), CHECKPOINT_TAG: folder.name}
    if resume_id is None:
        run = mlflow.start_run(
            experiment_id=start.experiment_id,
            run_name=start.name,
            tags=tags,
            parent_run_id=start.parent_run_id,
        )
    else:
        run = mlflow.start_run(run_id=resume_id)
        client = mlflow.MlflowClient()
        for name in STALE_TAGS:
            if name in run.data.tags:
                client.delete_tag(resume_id, name)
        mlflow.set_tags(tags)
    claim(folder, run.info.run_id)
    return run.info.run_id


def process_tags() -> dict[str, str]:
    """Which process runs a run: how a later start tells an orphan from a live run."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def end_active(exc: BaseException) -> None:
    """KILLED for an interruption, else FAILED with the error's first line as a tag. A store
    that cannot take even that is reported, never raised over the error that ended the run."""
    try:
        if isinstance(exc, (KeyboardInterrupt, Interrupted)):
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
            mlflow.set_tag(INTERRUPTED_TAG, signal.Signals(signum).name)
            mlflow.end_run("KILLED")
        else:
            mlflow.set_tag(ERROR_TAG, f"{type(exc).__name__}: {first_line(exc)}")
            mlflow.end_run("FAILED")
    except (MlflowException, OSError) as err:
        log.warning("could not record the end of the run: %s", first_line(err))


def interrupted_message(folder: Path, epochs: int) -> str:
    """What the user reads after Ctrl-C or SIGTERM: how far it got, and what to do."""
    done = completed_epochs(folder)
    if done == 0:
        return "interrupted before the first epoch ended: run the same command to continue"
    if done >= epochs:
        return (
            f"interrupted after the last epoch ({done} of {epochs}), while recording the "
            "results: run the same command to finish them"
        )
    return f"interrupted after epoch {done} of {epochs}: run the same command to continue"


def clear(folder: Path, keep_backup: bool = False) -> None:
    """Empties the folder but for its lease (and, with `keep_backup`, the training backup)."""
    for entry in folder.iterdir() if folder.exists() else ():
        if entry.name == LEASE_FILE or entry.name.startswith(f".{LEASE_FILE}"):
            continue
        if keep_backup and entry.name not in (RUN_ID_FILE, RECORDED_FILE):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):  # not empty: another start took the folder over meanwhile
        folder.rmdir()


class Parent(Protocol):
    run_id: str

    def children_status(self) -> str: ...

    def close(self, status: str) -> None: ...


@dataclass
class ParentEnd:
    """How a parent run ends when its block completes: `status`, or else its children's."""

    status: str | None = None


@contextmanager
def ending_parent(parent: Parent, experiment_id: str) -> Iterator[ParentEnd]:
    """A parent run ends as a run does: KILLED on an interruption, FAILED on an error, else
    with the block's chosen status or by its children (FAILED if one failed)."""
    end_dead_parents(experiment_id, keep=parent.run_id)
    end = ParentEnd()
    try:
        yield end
    except BaseException as exc:
        with signals_deferred():
            end_parent(parent, exc)
        raise
    with signals_deferred():
        parent.close(end.status or parent.children_status())


def end_parent(parent: Parent, exc: BaseException) -> None:
    """Interrupted: KILLED. A job's failure that ended a sweep: by its children. Else FAILED."""
    client = mlflow.MlflowClient()
    try:
        if isinstance(exc, (KeyboardInterrupt, Interrupted)):
            parent.close("KILLED")
        elif isinstance(exc, SystemExit):
            parent.close(parent.children_status())
        else:
            client.set_tag(parent.run_id, ERROR_TAG, f"{type(exc).__name__}: {first_line(exc)}")
            parent.close("FAILED")
    except (MlflowException, OSError) as err:
        log.warning("could not record the end of parent run %s: %s", parent.run_id, first_line(err))


def end_dead_parents(experiment_id: str, keep: str) -> None:
    """Ends KILLED the parent runs that a hard-killed process of this host left RUNNING."""
    client = mlflow.MlflowClient()
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{PARENT_TAG}` = 'parent' and attributes.status = 'RUNNING'",
    )
    for run in runs:
        tags = run.data.tags
        if (
            run.info.run_id != keep
            and tags.get(HOST_TAG) == socket.gethostname()
            and tags.get(PID_TAG, "").isdigit()
            and not alive(int(tags[PID_TAG]))
        ):
            end_orphan(run.info.run_id, "its process died before the last of its runs ended")


def hold_open(parent: Parent, experiment_id: str) -> None:
    """Enters `ending_parent` for a sweep that `close_parent`, or the entrypoint's
    `parents.closing_parents` if the sweep is cut off, ends."""
    ending = ExitStack()
    ending.enter_context(ending_parent(parent, experiment_id))
    parents.hold(parent.run_id, ending)


def close_parent(run_id: str) -> None:
    """Ends a parent opened by `hold_open` as a completed block; idempotent."""
    parents.release(run_id)
