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
  for `--rounds` rounds and each keeps its best, as the machine may be shared.

Target: per-job overhead outside fit < 1.5 s (the import is paid once per process), with
everything a run records (data sets, per-class table, summary metrics, named model). The same
jobs are also run in-process with `tracking.system_metrics=true`, for what MLflow's sampler
costs a job (it decides that option's default).
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


class FitTimer(keras.callbacks.Callback):
    """Seconds inside model.fit, graph tracing and validation included."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.seconds = time.perf_counter() - self.start


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
) -> list[tuple[float, float]]:
    """(job seconds, fit seconds) for each job run by experiments.job.run in this process."""
    times = []
    for value in filters:
        timer = FitTimer()
        started = time.perf_counter()
        cfg = compose_config([*WORKLOAD, f"model.filters={value}", *store(root), *extra])
        run(cfg, f"model.filters={value}", callbacks=[timer])
        times.append((time.perf_counter() - started, timer.seconds))
    return times


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
    parser.add_argument("--rounds", type=int, default=2, help="sweeps of each kind (default 2)")
    args = parser.parse_args()
    filters = list(range(2, 2 + args.jobs))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{args.jobs} jobs: model.filters={filters[0]}..{filters[-1]}, 1 epoch, 432 images")

    startup = startup_s()
    print(f"startup (import experiments.run in a fresh process): {startup:.1f} s")

    with tempfile.TemporaryDirectory() as tmp:
        times = in_process(filters, Path(tmp))
    first, rest = times[0], times[1:]
    overhead = statistics.median(job - fit for job, fit in rest)
    fit_s = statistics.median(fit for _, fit in rest)
    print(
        f"in one process: first job {first[0]:.1f} s (fit {first[1]:.1f} s; creates the store), "
        f"then median {statistics.median(job for job, _ in rest):.1f} s a job, of which fit "
        f"{fit_s:.1f} s"
    )
    verdict = "met" if overhead < TARGET_OVERHEAD_S else "MISSED"
    print(f"per-job overhead outside fit: {overhead:.2f} s (< {TARGET_OVERHEAD_S} s: {verdict})")
    with tempfile.TemporaryDirectory() as tmp:
        sampled = in_process(filters, Path(tmp), ["tracking.system_metrics=true"])[1:]
    with_sampler = statistics.median(job - fit for job, fit in sampled)
    print(
        f"  with tracking.system_metrics=true: {with_sampler:.2f} s "
        f"({with_sampler - overhead:+.2f} s a job)"
    )

    joblib = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={args.n_jobs}"]
    serial, parallel = float("inf"), float("inf")
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as root:
            serial = min(serial, sweep_s(filters, Path(root), []))
        with tempfile.TemporaryDirectory() as root:
            parallel = min(parallel, sweep_s(filters, Path(root), joblib))
    print(f"sweep, basic launcher (serial): {serial:.1f} s ({serial / args.jobs:.1f} s a job)")
    in_sweep = (serial - startup) / args.jobs - fit_s
    print(f"  per job beyond the one startup and outside fit: {in_sweep:.2f} s")
    print(
        f"sweep, joblib n_jobs={args.n_jobs}: {parallel:.1f} s ({parallel / args.jobs:.1f} s a job)"
        f" → {serial / parallel:.2f}× the serial speed"
    )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
