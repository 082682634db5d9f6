"""Start-up time: what a command costs before it does any work, against `import hydra`.

    .venv/bin/python benchmarks/bench_startup.py [--rounds 5]

Each command runs in a fresh process, `--rounds` times (alternating with the others, as the
machine may be shared), and keeps its median wall time. The commands are the ones a user waits
on without training anything: every entrypoint's `--help`, `--cfg job` of experiments.run, and a
config error of each (exit 2) that needs no store. The baseline, `python -c "import hydra"`,
runs in the same rounds.

For each: the median wall time, its ratio to the baseline, the median CPU time (user + system:
what the wall time comes down to on an idle machine, as start-up runs on one core), the exit
status, whether TensorFlow or MLflow were imported (a run with `python -X importtime`), and the
lines TensorFlow wrote to stderr.
Target: every command ≤ 1.5 s wall on 2 cores, importing neither TensorFlow nor MLflow, and
writing no TensorFlow line. The machine may be shared: compare the ratios, and the CPU time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

TARGET_S = 1.5
BASELINE = ("import hydra", ["-c", "import hydra"])
COMMANDS = [
    ("run --help", ["-m", "experiments.run", "--help"]),
    ("run --cfg job", ["-m", "experiments.run", "--cfg", "job"]),
    ("run model.filters=0", ["-m", "experiments.run", "model.filters=0"]),
    ("tune --help", ["-m", "experiments.tune", "--help"]),
    ("tune bad space", ["-m", "experiments.tune", "hparams_search.space={model.dropout:{high:2}}"]),
    ("repeat --help", ["-m", "experiments.repeat", "--help"]),
    ("repeat no seeds", ["-m", "experiments.repeat", "model.filters=8"]),
    ("compare --help", ["-m", "experiments.compare", "--help"]),
    ("compare bad value", ["-m", "experiments.compare", "tracking.experiment=???"]),
    ("evaluate --help", ["-m", "experiments.evaluate", "--help"]),
    ("evaluate --part dev", ["-m", "experiments.evaluate", "--part", "dev"]),
    ("data --help", ["-m", "experiments.data", "--help"]),
    ("data model.filters=0", ["-m", "experiments.data", "model.filters=0"]),
    ("ui --help", ["-m", "experiments.ui", "--help"]),
    ("apps.predict --help", ["-m", "apps.predict", "--help"]),
]
HEAVY = ("tensorflow", "mlflow")
TF_LINE = ("oneDNN", "absl::", "cuda", "TensorFlow binary", "tensorflow/")
# As a user's shell has it: no TF_CPP_MIN_LOG_LEVEL, so TensorFlow's lines show if it loads.
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}


def timed(args: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall and CPU (user + system) seconds of one fresh process, and how it ended."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done


def heavy_imports(args: list[str]) -> list[str]:
    """Which of TensorFlow and MLflow the command imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, env=ENV
    )
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in done.stderr.splitlines()}
    return [name for name in HEAVY if name in names]


def tf_lines(stderr: str) -> int:
    return sum(any(mark in line for mark in TF_LINE) for line in stderr.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    everything = [BASELINE, *COMMANDS]
    walls: dict[str, list[float]] = {name: [] for name, _ in everything}
    cpus: dict[str, list[float]] = {name: [] for name, _ in everything}
    last: dict[str, subprocess.CompletedProcess] = {}
    for _ in range(args.rounds):
        for name, command in everything:
            wall, cpu, last[name] = timed(command)
            walls[name].append(wall)
            cpus[name].append(cpu)
    base = statistics.median(walls[BASELINE[0]])
    header = f"{'command':<22} {'wall s':>7} {'× hydra':>8} {'cpu s':>6} {'exit':>5}"
    print(f"{header}  imports  TF lines")
    missed = []
    for name, command in everything:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        heavy = heavy_imports(command)
        lines = tf_lines(last[name].stderr)
        print(
            f"{name:<22} {wall:7.2f} {wall / base:8.2f} {cpu:6.2f} {last[name].returncode:5}  "
            f"{','.join(heavy) or '-':<8} {lines}"
        )
        if name != BASELINE[0] and (wall > TARGET_S or heavy or lines):
            missed.append(name)
    verdict = f"MISSED by {', '.join(missed)}" if missed else "met"
    print(f"every command ≤ {TARGET_S} s, no TensorFlow or MLflow, no TF lines: {verdict}")


if __name__ == "__main__":
    main()
