"""Scoring speed of `experiments.evaluate` with the shipped model: images per second through
`Predictor.probabilities` (what evaluate times and logs as `images_per_second`), data
preparation excluded, beside two references timed in the same rounds.

    .venv/bin/python benchmarks/bench_evaluate.py [--images 8192] [--rounds 5]

- `Predictor.probabilities` at its default batch and at 1,024 (the default before);
- the raw Keras forward pass at the same batches, `model(x, training=False)` in a tf.function
  on float32 images converted before timing: scoring as it was before the weights were frozen
  into the graph, and what probabilities adds to it;
- a 1024³ float32 matmul: the floating-point rate these cores reach, turned into the images/s
  the model's multiply-adds would allow at that rate (a ceiling, not a promise: small
  convolutions run below a big matmul's rate).

The machine may be shared: the variants alternate for `--rounds` rounds and each keeps its
fastest, with the cores it got in that round (CPU seconds / wall seconds) and its images per
CPU second, which load from other processes changes less. Ratios between the lines of one run
are what to compare. Target: >= 5,000 images/s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from handrec import shipped
from handrec.data.sources import SampleSource, load
from handrec.inference import BATCH_SIZE, Predictor
from handrec.models import flops

TARGET = 5_000
MATMUL_SIDE = 1024
BATCHES = tuple(dict.fromkeys((BATCH_SIZE, 1024)))


@dataclass
class Timing:
    """The fastest round of one variant: wall and CPU seconds."""

    wall: float = float("inf")
    cpu: float = float("inf")

    def add(self, call: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if wall < self.wall:
            self.wall, self.cpu = wall, cpu


def raw_forward(predictor: Predictor, images: np.ndarray, batch: int) -> Callable[[], object]:
    """The Keras model on float32 batches, converted before timing."""
    forward = tf.function(lambda x: predictor.model(x, training=False))
    batches = [
        tf.constant(images[start : start + batch], tf.float32)
        for start in range(0, len(images), batch)
    ]
    return lambda: [forward(chunk).numpy() for chunk in batches]


def matmul() -> Callable[[], object]:
    a = tf.random.normal([MATMUL_SIDE, MATMUL_SIDE])
    b = tf.random.normal([MATMUL_SIDE, MATMUL_SIDE])
    product = tf.function(lambda: tf.matmul(a, b))
    return lambda: [product().numpy() for _ in range(8)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8192, help="images scored (default 8192)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of every variant (default 5)")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    data = load(SampleSource(digits_per_class=200, letters_per_class=200))
    images = np.resize(data.x, (args.images, 28, 28))
    predictor = Predictor.load(shipped.EMNIST36)
    multiply_adds = flops(predictor.model)
    print(
        f"shipped model {shipped.EMNIST36.name}: {predictor.model.count_params():,} parameters, "
        f"{multiply_adds / 1e6:.1f} M multiply-adds an image; {args.images:,} images"
    )
    variants: dict[tuple[str, int], Callable[[], object]] = {}
    for batch in BATCHES:
        variants["probabilities", batch] = lambda b=batch: predictor.probabilities(images, b)
        variants["raw Keras forward", batch] = raw_forward(predictor, images, batch)
    timings = {key: Timing() for key in [*variants, ("matmul", 0)]}
    reference = matmul()
    for call in [*variants.values(), reference]:
        call()  # tracing, caches
    for _ in range(args.rounds):
        for key, call in variants.items():
            timings[key].add(call)
        timings["matmul", 0].add(reference)

    product = timings.pop(("matmul", 0))
    gflops = 8 * 2 * MATMUL_SIDE**3 / product.wall / 1e9
    raw = timings["raw Keras forward", BATCHES[-1]].wall
    for (name, batch), t in timings.items():
        print(
            f"{name:18s} batch {batch:>5}: {args.images / t.wall:>7,.0f} images/s "
            f"({t.cpu / t.wall:.1f} cores, {args.images / t.cpu:>6,.0f} per CPU s), "
            f"{raw / t.wall:.2f}x the raw forward at batch {BATCHES[-1]}"
        )
    ceiling = gflops * 1e9 / (2 * multiply_adds)
    print(
        f"matmul {MATMUL_SIDE}³ float32: {gflops:,.0f} GFLOP/s "
        f"({product.cpu / product.wall:.1f} cores) → the model at that rate: "
        f"{ceiling:,.0f} images/s"
    )
    rate = args.images / timings["probabilities", BATCH_SIZE].wall
    verdict = "met" if rate >= TARGET else "MISSED"
    print(
        f"evaluate's path (batch {BATCH_SIZE}): {rate:,.0f} images/s, >= {TARGET:,}: {verdict}; "
        f"{rate / ceiling:.0%} of the matmul-rate ceiling"
    )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
