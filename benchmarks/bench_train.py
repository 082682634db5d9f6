"""Training throughput: handrec's training path against a bare Keras loop, same model and data.

    .venv/bin/python benchmarks/bench_train.py [--per-class 500] [--epochs 3] [--rounds 2]
        [--precision float32 [mixed_bfloat16 ...]]

Both train the seed CNN (36 classes) with Adam 1e-3, batch 200, on the same images and validate
on the same held-out part each epoch. The bare loop is `model.fit` on a float32 NumPy copy;
handrec's path is `handrec.training.fit` from the uint8 arrays, with MLflow's EpochLogger
writing every epoch to a throwaway sqlite store. Samples/s counts training samples over the
epochs after the first (which traces the graphs); the loops alternate for `--rounds` rounds and
each keeps its best, as the machine may be shared. Target: handrec ≥ 0.97× the bare loop.

`--precision` runs handrec's path once per precision in every round (the bare loop stays
float32), to measure mixed precision on the machine at hand against float32, side by side.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import keras
import numpy as np

from experiments.keras_logging import EpochLogger
from experiments.lifecycle import Start, training_run
from experiments.schema import TrackingConfig
from experiments.tracking import connect
from handrec.data.dataset import Dataset
from handrec.data.sources import SampleSource, load
from handrec.data.split import SplitSpec, split
from handrec.models import build_model
from handrec.models.seed_cnn import SeedCnnParams
from handrec.training import strategy_scope
from handrec.training.fit import TrainSpec, fit
from handrec.training.spec import PRECISIONS

TARGET_RATIO = 0.97
BATCH = 200
BARE = "bare keras fit"


class EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch, validation included."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self.start)


def fresh_model(n_classes: int, precision: str = "float32") -> keras.Model:
    """Seed 0, built in the precision's scope after clearing the session, which would reset the
    dtype policy."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    with strategy_scope(precision=precision):
        return build_model(SeedCnnParams(), n_classes)


def bare_loop(train: Dataset, val: Dataset, epochs: int, timer: EpochTimer) -> None:
    """The original project's way: compile, then fit on float32 arrays."""
    model = fresh_model(len(train.labels))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        train.x.astype(np.float32),
        train.y,
        batch_size=BATCH,
        epochs=epochs,
        validation_data=(val.x.astype(np.float32), val.y),
        callbacks=[timer],
        verbose=0,
    )


def handrec_path(
    train: Dataset,
    val: Dataset,
    epochs: int,
    timer: EpochTimer,
    experiment_id: str,
    precision: str,
) -> None:
    """As experiments.run trains: handrec's fit, every epoch logged to MLflow."""
    model = fresh_model(len(train.labels), precision)
    spec = TrainSpec(epochs=epochs, batch_size=BATCH, verbose=0, precision=precision)
    with (
        tempfile.TemporaryDirectory() as folder,
        training_run(Start(experiment_id, "bench_train", {}, Path(folder) / "ck", epochs)),
    ):
        fit(model, train, val, spec, callbacks=[EpochLogger(), timer])


def samples_per_second(
    run: Callable[[EpochTimer], None], n_train: int
) -> tuple[float, list[float]]:
    timer = EpochTimer()
    run(timer)
    steady = timer.seconds[1:]
    return n_train * len(steady) / sum(steady), timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=500, help="sample images per class")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per loop (>= 2)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the loops")
    parser.add_argument(
        "--precision",
        nargs="+",
        choices=PRECISIONS,
        default=["float32"],
        help="handrec's precisions to time side by side (the target applies to float32)",
    )
    args = parser.parse_args()

    data = load(SampleSource(digits_per_class=args.per_class, letters_per_class=args.per_class))
    parts = split(data, SplitSpec(val=0.1, test=0.1, seed=0))
    n_train = len(parts.train)
    print(
        f"seed_cnn, batch {BATCH}, {n_train:,} training / {len(parts.val):,} validation images, "
        f"{args.epochs} epochs × {args.rounds} rounds; load average {os.getloadavg()[0]:.2f} "
        f"on {os.cpu_count()} cores (shared machine: other work may slow any run)"
    )
    with tempfile.TemporaryDirectory() as store:
        tracking = TrackingConfig(
            uri=f"sqlite:///{store}/mlflow.db", experiment="bench", artifact_root=f"{store}/a"
        )
        experiment_id = connect(tracking)
        loops: dict[str, Callable[[EpochTimer], None]] = {
            BARE: lambda t: bare_loop(parts.train, parts.val, args.epochs, t)
        }
        for precision in args.precision:
            loops[f"handrec {precision}"] = partial(
                handrec_path,
                parts.train,
                parts.val,
                args.epochs,
                experiment_id=experiment_id,
                precision=precision,
            )
        best = dict.fromkeys(loops, 0.0)
        for round_ in range(1, args.rounds + 1):
            for name, run in loops.items():
                rate, seconds = samples_per_second(run, n_train)
                best[name] = max(best[name], rate)
                epochs = ", ".join(f"{s:.1f}" for s in seconds)
                print(f"  round {round_} {name:22s} {rate:7.0f} samples/s (epochs: {epochs} s)")
    for name, rate in best.items():
        print(f"{name + ':':23s} {rate:7,.0f} samples/s (best of {args.rounds})")
    if "handrec float32" not in best:
        return
    reference = best["handrec float32"]
    ratio = reference / best[BARE]
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(f"handrec float32 / bare keras fit {ratio:.3f} (target ≥ {TARGET_RATIO}): {verdict}")
    for precision in args.precision:
        if precision != "float32":
            mixed = best[f"handrec {precision}"] / reference
            print(f"handrec {precision} / handrec float32 {mixed:.3f}")


if __name__ == "__main__":
    main()
