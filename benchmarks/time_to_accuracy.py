"""Time to accuracy: the seed recipe against the `fast` and `best` recipes on real handwriting.

    .venv/bin/python benchmarks/time_to_accuracy.py [--max-per-class N] [--epochs-scale F]
                                                    [--recipes seed,fast,best] [--data DIR]
                                                    [--precision float32|mixed_bfloat16]

Data: EMNIST ByClass digits + uppercase letters (36 classes) from ../shared/data/emnist/ when
it is there, else the embedded sample. Only EMNIST's test split ships there, so it is split here,
once, stratified 80/10/10 with seed 0; every recipe trains on the same train part from the same
seed and is scored once on the same test part. A recipe is conf/experiment/<name>.yaml's model
and train settings, as `python -m experiments.run experiment=<name>` would use them. The wall
time is fit's, graph tracing included. Targets: `fast` reaches the seed recipe's test accuracy
in at most 1/3 of its wall time; `best` has at most 1/2 of its test error.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from hydra import compose, initialize_config_dir

from experiments.schema import PROJECT_ROOT, register, settings
from handrec.data.dataset import Dataset
from handrec.data.sources import SampleSource, load
from handrec.data.sources.emnist import EmnistSource
from handrec.data.split import Splits, SplitSpec, split
from handrec.evaluation import evaluate
from handrec.labels import DIGITS, UPPERCASE, LabelSpace
from handrec.models import build_model, flops
from handrec.training import strategy_scope
from handrec.training.fit import TrainSpec, fit

EMNIST = PROJECT_ROOT.parent / "shared" / "data" / "emnist"
FAST_TIME_RATIO = 1 / 3
BEST_ERROR_RATIO = 1 / 2
LOOKALIKES = (("0", "O"), ("1", "I"), ("2", "Z"), ("5", "S"))
"""Pairs many writers draw alike: a report of how much of the error they make up."""


@dataclass(frozen=True)
class Result:
    recipe: str
    model: str
    parameters: int
    flops: int
    epochs: int
    wall_s: float
    accuracy: float
    macro_f1: float
    lookalike_error: float
    """Share of the test set misread as its look-alike (O as 0, 0 as O, …)."""

    @property
    def error(self) -> float:
        return 1 - self.accuracy

    @property
    def other_error(self) -> float:
        """The error outside the look-alike pairs."""
        return self.error - self.lookalike_error


def load_data(
    folder: Path, max_per_class: int, seed: int, reframe: bool = True
) -> tuple[str, Dataset]:
    """EMNIST ByClass on the 36 classes 0–9 A–Z, or the embedded sample without it.

    reframe: EMNIST's `reframe` setting (the default frames it as the app's input is framed).
    """
    space = LabelSpace.from_names(DIGITS + UPPERCASE)
    if (folder / "emnist-byclass-mapping.txt").is_file():
        source = EmnistSource(path=str(folder), split="byclass", part="test", reframe=reframe)
        data, _ = load(source).to_space(space)
        name = "EMNIST ByClass digits + uppercase"
    else:
        data, name = load(SampleSource(digits_per_class=500, letters_per_class=500)), "sample"
    return name, at_most_per_class(data, max_per_class, seed) if max_per_class else data


def at_most_per_class(data: Dataset, limit: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    keep = [
        rng.permutation(np.flatnonzero(data.y == label))[:limit]
        for label in range(len(data.labels))
    ]
    return data.subset(np.sort(np.concatenate(keep)))


def recipe(name: str, overrides: Sequence[str] = ()) -> tuple[Any, TrainSpec]:
    """The model and train settings of conf/experiment/<name>.yaml, with Hydra `overrides`."""
    register()
    with initialize_config_dir(str(PROJECT_ROOT / "conf"), version_base="1.3"):
        composed = settings(compose("config", overrides=[f"experiment={name}", *overrides]))
    return composed.model, composed.train


def fit_recipe(
    name: str,
    parts: Splits,
    epochs_scale: float,
    seed: int,
    precision: str | None = None,
    overrides: Sequence[str] = (),
) -> tuple[keras.Model, TrainSpec, float]:
    """conf/experiment/<name>.yaml's model trained on `parts`: (model, its spec, wall seconds)."""
    params, spec = recipe(name, overrides)
    spec = dataclasses.replace(
        spec,
        epochs=max(1, round(spec.epochs * epochs_scale)),
        verbose=2,
        precision=precision or spec.precision,
    )
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    with strategy_scope(spec.distribute, spec.precision):
        model = build_model(params, len(parts.train.labels))
    print(f"--- {name}: {params}\n    {spec}", flush=True)
    start = time.perf_counter()
    fit(model, parts.train, parts.val, spec, seed)
    return model, spec, time.perf_counter() - start


def train(
    name: str, parts: Splits, epochs_scale: float, seed: int, precision: str | None
) -> Result:
    model, spec, wall = fit_recipe(name, parts, epochs_scale, seed, precision)
    scores = evaluate(model, parts.test)
    classes = parts.test.labels.classes
    return Result(
        name,
        model.name,
        model.count_params(),
        flops(model),
        spec.epochs,
        wall,
        scores.accuracy,
        scores.macro_f1,
        lookalike_error(scores.confusion, classes),
    )


def lookalike_error(confusion: np.ndarray, classes: tuple[str, ...]) -> float:
    """Share of all test samples read as their look-alike, both ways, from the confusion matrix."""
    index = {name: i for i, name in enumerate(classes)}
    pairs = [(index[a], index[b]) for a, b in LOOKALIKES if a in index and b in index]
    misread = sum(int(confusion[a, b] + confusion[b, a]) for a, b in pairs)
    return misread / max(1, int(confusion.sum()))


def table(results: list[Result]) -> None:
    print(
        f"\n{'recipe':8s} {'model':9s} {'params':>9s} {'MFLOPs':>7s} {'epochs':>6s} "
        f"{'wall s':>7s} {'test acc':>8s} {'macro-F1':>8s} {'look-alike err':>14s}"
    )
    for r in results:
        print(
            f"{r.recipe:8s} {r.model:9s} {r.parameters:9,d} {r.flops / 1e6:7.1f} {r.epochs:6d} "
            f"{r.wall_s:7.1f} {r.accuracy:8.4f} {r.macro_f1:8.4f} {r.lookalike_error:14.4f}"
        )


def verdicts(results: dict[str, Result]) -> None:
    seed = results.get("seed")
    if seed is None:
        return
    if "fast" in results:
        fast = results["fast"]
        ratio = fast.wall_s / seed.wall_s
        reached = fast.accuracy >= seed.accuracy
        ok = reached and ratio <= FAST_TIME_RATIO
        print(
            f"fast: {fast.accuracy:.4f} vs seed {seed.accuracy:.4f} "
            f"({'reached' if reached else 'not reached'}) in {ratio:.2f}× the seed's wall time "
            f"(target ≤ {FAST_TIME_RATIO:.2f}×): {'meets' if ok else 'misses'}"
        )
    if "best" in results:
        best = results["best"]
        ratio = best.error / seed.error
        print(
            f"best: test error {best.error:.4f} vs seed {seed.error:.4f} = {ratio:.2f}× "
            f"(target ≤ {BEST_ERROR_RATIO:.2f}×): "
            f"{'meets' if ratio <= BEST_ERROR_RATIO else 'misses'}"
        )
        pairs = ", ".join("/".join(pair) for pair in LOOKALIKES)
        print(
            f"best outside the look-alike pairs {pairs}: error {best.other_error:.4f} vs seed "
            f"{seed.other_error:.4f} = {best.other_error / seed.other_error:.2f}× (a diagnostic)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=EMNIST, help="EMNIST folder")
    parser.add_argument("--max-per-class", type=int, default=0, help="0: all samples")
    parser.add_argument("--epochs-scale", type=float, default=1.0, help="× every recipe's epochs")
    parser.add_argument("--recipes", default="seed,fast,best", help="comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precision", help="train.precision for every recipe (default: theirs)")
    args = parser.parse_args()

    name, data = load_data(args.data, args.max_per_class, args.seed)
    parts = split(data, SplitSpec(val=0.1, test=0.1, seed=args.seed))
    print(
        f"{name}: {len(data):,} images, train {len(parts.train):,} / val {len(parts.val):,} / "
        f"test {len(parts.test):,}; load average {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} cores (shared machine: other work may slow any run)"
    )
    results = {}
    for recipe_name in args.recipes.split(","):
        results[recipe_name] = train(
            recipe_name, parts, args.epochs_scale, args.seed, args.precision
        )
        table(list(results.values()))
    verdicts(results)


if __name__ == "__main__":
    main()
