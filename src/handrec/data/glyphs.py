"""Handwriting-like glyphs drawn with OpenCV's Hershey vector fonts.

No installable package ships handwritten letters, so the embedded sample draws them: a random
face (the script faces look most like handwriting), stroke width, slant, rotation, scale and an
elastic distortion, then the same MNIST-style normalisation as every other image.
"""

from __future__ import annotations

import cv2
import numpy as np

from handrec.preprocess import fit_and_centre

FACES = (
    cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_PLAIN,
    cv2.FONT_HERSHEY_SIMPLEX | cv2.FONT_ITALIC,
    cv2.FONT_HERSHEY_COMPLEX | cv2.FONT_ITALIC,
)
CANVAS = 96


def render_glyph(char: str, rng: np.random.Generator) -> np.ndarray:
    """One randomly styled `char` as a uint8 28×28 image, white ink on black."""
    face = FACES[rng.integers(len(FACES))]
    canvas = np.zeros((CANVAS, CANVAS), np.uint8)
    scale = rng.uniform(1.4, 2.0)
    thickness = int(rng.integers(2, 6))
    (width, height), _ = cv2.getTextSize(char, face, scale, thickness)
    origin = ((CANVAS - width) // 2, (CANVAS + height) // 2)
    cv2.putText(canvas, char, origin, face, scale, 255, thickness, cv2.LINE_AA)
    canvas = _affine(canvas, rng)
    canvas = _elastic(canvas, rng, alpha=rng.uniform(4.0, 9.0), sigma=rng.uniform(6.0, 10.0))
    return fit_and_centre(canvas)


def _affine(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random rotation, slant (shear) and aspect change about the canvas centre."""
    angle = np.deg2rad(rng.uniform(-12, 12))
    shear = rng.uniform(-0.3, 0.3)
    stretch = rng.uniform(0.8, 1.2)
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = rotate @ np.array([[stretch, shear], [0.0, 1.0]])
    centre = np.array([CANVAS / 2, CANVAS / 2])
    offset = centre - matrix @ centre
    affine = np.hstack([matrix, offset[:, None]]).astype(np.float32)
    return cv2.warpAffine(image, affine, (CANVAS, CANVAS), flags=cv2.INTER_LINEAR)


def _elastic(image: np.ndarray, rng: np.random.Generator, alpha: float, sigma: float) -> np.ndarray:
    """Simard-style elastic distortion: a smooth random displacement field, in pixels."""
    noise = rng.uniform(-1, 1, size=(2, *image.shape)).astype(np.float32)
    field = [cv2.GaussianBlur(n, (0, 0), sigma) for n in noise]
    field = [f * (alpha / max(float(np.abs(f).max()), 1e-6)) for f in field]
    grid_y, grid_x = np.indices(image.shape, dtype=np.float32)
    return cv2.remap(image, grid_x + field[0], grid_y + field[1], cv2.INTER_LINEAR)
