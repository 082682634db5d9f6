"""How separable the look-alike pairs are: a specialist per pair, trained on that pair alone.

    .venv/bin/python benchmarks/lookalike_floor.py [--recipe best] [--epochs-scale F] [--data DIR]

On the split of benchmarks/time_to_accuracy.py (EMNIST ByClass digits + uppercase, stratified
80/10/10, seed 0), each pair of LOOKALIKES (O/0, I/1, Z/2, S/5) gets its own two-class model,
trained with the recipe on that pair's training images only and scored on that pair's test
images. A 36-class model has a harder task on those images, so the specialists' errors, as a
share of the whole 36-class test set ("share"), estimate a floor under any recipe's error on
this split, to set against a target such as "half the seed recipe's error".
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from time_to_accuracy import EMNIST, LOOKALIKES, fit_recipe, load_data

from handrec.data.dataset import Dataset
from handrec.data.split import Splits, SplitSpec, split
from handrec.evaluation import evaluate
from handrec.labels import LabelSpace


def pair_only(data: Dataset, pair: tuple[str, str]) -> Dataset:
    """The images of the two classes of `pair`, relabelled 0 and 1."""
    first, second = (data.labels.classes.index(name) for name in pair)
    keep = np.isin(data.y, (first, second))
    return Dataset(
        data.x[keep], (data.y[keep] == second).astype(np.int64), LabelSpace.from_names(pair)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=EMNIST, help="EMNIST folder")
    parser.add_argument("--recipe", default="best", help="conf/experiment/<recipe>.yaml")
    parser.add_argument("--epochs-scale", type=float, default=1.5, help="× the recipe's epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    name, data = load_data(args.data, 0, args.seed)
    parts = split(data, SplitSpec(val=0.1, test=0.1, seed=args.seed))
    print(f"{name}: test {len(parts.test):,} images", flush=True)
    rows = []
    for pair in LOOKALIKES:
        pair_parts = Splits(
            *(pair_only(part, pair) for part in (parts.train, parts.val, parts.test))
        )
        model, _, _ = fit_recipe(args.recipe, pair_parts, args.epochs_scale, args.seed)
        accuracy = evaluate(model, pair_parts.test).accuracy
        errors = round((1 - accuracy) * len(pair_parts.test))
        rows.append(("/".join(pair), len(pair_parts.train), len(pair_parts.test), accuracy, errors))
    print(f"\n{'pair':5s} {'train':>6s} {'test':>5s} {'accuracy':>8s} {'errors':>6s}  share")
    for pair, train, test, accuracy, errors in rows:
        share = errors / len(parts.test)
        print(f"{pair:5s} {train:6,d} {test:5,d} {accuracy:8.4f} {errors:6d}  {share:.4f}")
    total = sum(row[-1] for row in rows)
    print(f"all pairs: {total} errors = {total / len(parts.test):.4f} of the 36-class test set")


if __name__ == "__main__":
    main()
