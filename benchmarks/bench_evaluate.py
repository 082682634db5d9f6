"""Scoring speed of `experiments.evaluate` with the shipped model: images per second through
`Predictor.probabilities` (what evaluate times and logs as `images_per_second`), data
preparation excluded, at a few batch sizes.

    .venv/bin/python benchmarks/bench_evaluate.py [--images 20000] [--rounds 3]

The images are the embedded sample's (digits and drawn letters, prepared once before timing).
Each batch size is timed `--rounds` times after one warm-up batch (graph tracing) and keeps its
best, as the machine may be shared. Target: >= 5,000 images/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from handrec import shipped
from handrec.data.sources import SampleSource, load
from handrec.inference import BATCH_SIZE, Predictor

TARGET = 5_000
BATCH_SIZES = (256, BATCH_SIZE, 4096)


def images_per_second(predictor: Predictor, images: np.ndarray, batch: int, rounds: int) -> float:
    predictor.probabilities(images[:batch], batch)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        predictor.probabilities(images, batch)
        best = min(best, time.perf_counter() - started)
    return len(images) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000, help="images scored (default 20000)")
    parser.add_argument("--rounds", type=int, default=3, help="timings per batch size (default 3)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    data = load(SampleSource(digits_per_class=500, letters_per_class=500))
    images = np.resize(data.x, (args.images, 28, 28))
    predictor = Predictor.load(shipped.EMNIST36)
    print(f"shipped model {shipped.EMNIST36.name}: {predictor.model.count_params():,} parameters")
    for batch in BATCH_SIZES:
        rate = images_per_second(predictor, images, batch, args.rounds)
        verdict = "met" if rate >= TARGET else "MISSED"
        print(f"batch {batch:>5}: {rate:>8,.0f} images/s (>= {TARGET:,}: {verdict})")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
