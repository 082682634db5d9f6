"""Reading the A–Z CSV: the original pandas way against handrec's preparation and cached reload.

    .venv/bin/python benchmarks/bench_data.py [--rows 372450] [--repeat 1] [--emnist DIR]

Writes an A–Z-sized CSV (372,450 lines × 785 integers, MNIST-like sparsity) into a temp dir, then
times each method in a fresh subprocess, so each peak RSS (the child's own ru_maxrss) is per method:
  original  pd.read_csv(path).astype("float32"), as the original project did
  first     handrec's first preparation: parse, check, store in an empty cache
  cached    handrec's reload of the same file from the cache
Targets: first ≤ 1/3 of the original's time and ≤ 1/5 of its peak memory; cached ≤ 1 s.
With --emnist (default: ../shared/data/emnist when present) it also times the EMNIST loader on
the byclass test split, first preparation and cached reload.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

AZ_ROWS = 372_450
POOL = 4096
TIME_TARGET = 1 / 3
MEMORY_TARGET = 1 / 5
RELOAD_TARGET_S = 1.0
SHARED_EMNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "emnist"


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Lines drawn from a pool of random letters: ~19% ink pixels, mostly 255, like MNIST."""
    rng = np.random.default_rng(seed)
    images = np.zeros((POOL, 28, 28), np.uint8)
    ink = rng.random((POOL, 20, 20)) < 0.37
    levels = np.where(rng.random((POOL, 20, 20)) < 0.6, 255, rng.integers(1, 255, (POOL, 20, 20)))
    images[:, 4:24, 4:24] = np.where(ink, levels, 0)
    table = np.column_stack([rng.integers(0, 26, POOL), images.reshape(POOL, -1)])
    lines = [(",".join(map(str, row)) + "\n").encode() for row in table.tolist()]
    with path.open("wb") as out:
        for start in range(0, rows, 10_000):
            chosen = rng.integers(0, POOL, min(10_000, rows - start))
            out.write(b"".join(lines[i] for i in chosen))


def run_method(method: str, target: str, cache: str) -> None:
    """In the child: run one method once; print its wall and CPU seconds and peak RSS as JSON."""
    if method == "original":
        import pandas as pd

        def call() -> object:
            return pd.read_csv(target).astype("float32")
    elif method.startswith("emnist"):
        from handrec.data.sources import EmnistSource, load

        def call() -> object:
            return load(EmnistSource(path=target, part="test"), cache)
    else:
        from handrec.data.sources import AzCsvSource, load

        def call() -> object:
            return load(AzCsvSource(path=target), cache)

    wall, cpu = time.perf_counter(), time.process_time()
    data = call()
    result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**result, "peak_mb": peak_mb, "samples": len(data)}))


def measure(method: str, target: Path, cache: Path) -> dict[str, float]:
    """One method in a fresh interpreter: its timings and peak RSS in MB."""
    args = [sys.executable, __file__, "--child", method, str(target), str(cache)]
    child = subprocess.run(args, stdout=subprocess.PIPE, text=True, check=False)
    if child.returncode:
        raise SystemExit(f"{method} failed with exit code {child.returncode}")
    return json.loads(child.stdout.splitlines()[-1])


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """Median time and the largest peak over repeats (the machine's load varies)."""
    keys = ("wall", "cpu")
    return {
        **{k: statistics.median(r[k] for r in runs) for k in keys},
        "peak_mb": max(r["peak_mb"] for r in runs),
        "samples": runs[0]["samples"],
    }


def report(name: str, row: dict[str, float], verdict: str = "") -> None:
    print(
        f"{name:<26}{row['wall']:>8.2f}{row['cpu']:>8.2f}{row['peak_mb']:>10.0f}"
        f"{int(row['samples']):>10}  {verdict}"
    )


def bench_az(rows: int, repeat: int, work: Path) -> None:
    csv = work / "az.csv"
    start = time.perf_counter()
    write_csv(csv, rows)
    size_mb = csv.stat().st_size / 1e6
    print(
        f"A–Z CSV: {rows:,} lines, {size_mb:.0f} MB, written in {time.perf_counter() - start:.1f} s"
    )
    runs: dict[str, list[dict[str, float]]] = {"original": [], "first": [], "cached": []}
    for attempt in range(repeat):
        cache = work / f"cache-{attempt}"
        for method in runs:
            runs[method].append(measure(method, csv, cache))
    original, first, cached = (best(runs[m]) for m in runs)
    time_ratio = first["wall"] / original["wall"]
    cpu_ratio = first["cpu"] / original["cpu"]
    memory_ratio = first["peak_mb"] / original["peak_mb"]
    print(f"{'method':<26}{'wall s':>8}{'cpu s':>8}{'peak MB':>10}{'samples':>10}")
    report("original read_csv+float32", original)
    report(
        "handrec first preparation",
        first,
        f"time {time_ratio:.2f}x (target ≤ {TIME_TARGET:.2f}) {_ok(time_ratio <= TIME_TARGET)} "
        f"[cpu {cpu_ratio:.2f}x], "
        f"memory {memory_ratio:.2f}x (target ≤ {MEMORY_TARGET:.2f}) "
        f"{_ok(memory_ratio <= MEMORY_TARGET)}",
    )
    report(
        "handrec cached reload",
        cached,
        f"target ≤ {RELOAD_TARGET_S:.0f} s {_ok(cached['wall'] <= RELOAD_TARGET_S)}",
    )


def bench_emnist(folder: Path, work: Path) -> None:
    cache = work / "cache-emnist"
    first = measure("emnist-first", folder, cache)
    cached = measure("emnist-cached", folder, cache)
    print(f"\nEMNIST byclass test split from {folder}")
    report("emnist first preparation", first)
    report("emnist cached reload", cached)


def _ok(passed: bool) -> str:
    return "OK" if passed else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=AZ_ROWS, help="lines in the generated CSV")
    parser.add_argument("--repeat", type=int, default=1, help="runs per method (median time)")
    parser.add_argument("--emnist", type=Path, default=SHARED_EMNIST, help="EMNIST gzip folder")
    parser.add_argument(
        "--child", nargs=3, metavar=("METHOD", "TARGET", "CACHE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        run_method(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="bench_data-") as work:
        bench_az(args.rows, args.repeat, Path(work))
        if (args.emnist / "emnist-byclass-mapping.txt").is_file():
            bench_emnist(args.emnist, Path(work))


if __name__ == "__main__":
    main()
