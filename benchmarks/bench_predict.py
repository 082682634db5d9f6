"""Prediction speed: one image end to end, and a batch, against the original's model.predict.

    .venv/bin/python benchmarks/bench_predict.py [--runs 200] [--batch 10000] [--size 200]

Uses an untrained seed_cnn (speed does not depend on the weights), saved and loaded the way a
trained one is. Targets: single image ≤ 5 ms median (decode → preprocess → predict), batch
≥ 5,000 images/s.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial

import cv2
import numpy as np
from PIL import Image

from handrec.inference import Predictor, save_model
from handrec.labels import DIGITS, UPPERCASE
from handrec.models import build_model
from handrec.models.seed_cnn import SeedCnnParams
from handrec.preprocess import decode_image, prepare

SINGLE_TARGET_MS = 5.0
BATCH_TARGET_PER_S = 5_000.0
ORIGINAL_RUNS = 30


def sample_png(size: int) -> bytes:
    """A dark "7" on light paper, size × size, as a drawing app or scanner would save it."""
    image = np.full((size, size), 235, np.uint8)
    scale = size / 40
    cv2.putText(image, "7", (size // 4, size * 4 // 5), cv2.FONT_HERSHEY_SIMPLEX, scale, 20, 6)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "PNG")
    return buffer.getvalue()


def timings_ms(call: Callable[[], object], runs: int, warm_up: int = 2) -> np.ndarray:
    """Milliseconds per call, after warm-up calls (tracing, caches)."""
    for _ in range(warm_up):
        call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return np.array(times)


def images_per_second(call: Callable[[], object], count: int, repeats: int) -> tuple[float, float]:
    """(images/s, cores used) of the fastest of `repeats` runs after one warm-up.

    The machine may be shared: cores used well under os.cpu_count() means other processes took
    the rest, and the figure understates what the code does on an idle machine.
    """
    call()
    runs = []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    wall, cpu = min(runs)
    return count / wall, cpu / wall


def report(name: str, value: float, unit: str, target: float, lower_is_better: bool) -> None:
    ratio = target / value if lower_is_better else value / target
    verdict = "meets" if ratio >= 1 else "misses"
    print(f"{name:40s} {value:10.2f} {unit:6s} target {target:g}: {verdict} ({ratio:.2f}× margin)")


def bench_single(predictor: Predictor, data: bytes, runs: int) -> None:
    """One encoded image → prediction, as the CLI and the app do it, against model.predict."""
    stages = timings_ms(lambda: prepare(decode_image(data)), runs)
    ours = timings_ms(lambda: predictor.predict(decode_image(data)), runs)
    prepared = prepare(decode_image(data))[None].astype(np.float32)
    original = timings_ms(lambda: predictor.model.predict(prepared, verbose=0), ORIGINAL_RUNS)
    print(f"  decode + preprocess: median {np.median(stages):.2f} ms")
    print(f"  end to end: median {np.median(ours):.2f} ms, p90 {np.percentile(ours, 90):.2f} ms")
    print(f"  original, model.predict on the prepared image: median {np.median(original):.1f} ms")
    report("single image end to end (median)", float(np.median(ours)), "ms", SINGLE_TARGET_MS, True)
    print(f"  {np.median(original) / np.median(ours):.1f}× faster than model.predict alone")


def bench_batch(predictor: Predictor, image: np.ndarray, count: int) -> None:
    """`count` prepared images → probabilities, against model.predict (batch size 32)."""
    batch = np.repeat(image[None], count, axis=0)
    ours, cores = images_per_second(lambda: predictor.probabilities(batch), count, repeats=3)
    floats = batch.astype(np.float32)
    original_call = partial(predictor.model.predict, floats, verbose=0)
    original, original_cores = images_per_second(original_call, count, repeats=1)
    print(f"  original, model.predict: {original:,.0f} img/s on {original_cores:.2f} cores")
    print(f"  ours: {ours:,.0f} img/s on {cores:.2f} cores of {os.cpu_count()}")
    report(f"batch of {count:,} prepared images", ours, "img/s", BATCH_TARGET_PER_S, False)
    print(f"  {ours / original:.1f}× the original's throughput")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="single-image runs (default 200)")
    parser.add_argument("--batch", type=int, default=10_000, help="batch images (default 10000)")
    parser.add_argument("--size", type=int, default=200, help="input image side in px")
    args = parser.parse_args()

    classes = DIGITS + UPPERCASE
    with tempfile.TemporaryDirectory() as directory:
        model_path = save_model(build_model(SeedCnnParams(), len(classes)), classes, directory)
        predictor = Predictor.load(model_path)
    data = sample_png(args.size)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"single image: {args.size}×{args.size} PNG ({len(data):,} bytes), {args.runs} runs")
    bench_single(predictor, data, args.runs)
    print(f"batch: {args.batch:,} images")
    bench_batch(predictor, prepare(decode_image(data)), args.batch)


if __name__ == "__main__":
    main()
