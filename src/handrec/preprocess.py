"""The one place where an image becomes the model's 28×28 input (MNIST style).

The app, the prediction CLI, the image-folder source and the glyph generator all call it, so a
model sees the same kind of input in training and in use.
"""

from __future__ import annotations

import cv2
import numpy as np

from handrec.errors import HandrecError

BOX = 20
SIZE = 28


class NoInkError(HandrecError):
    """The image holds nothing to read (blank, or uniform)."""


def fit_and_centre(ink: np.ndarray) -> np.ndarray:
    """White-on-black ink image of any size → uint8 28×28, MNIST style.

    Crops to the ink's bounding box, scales the longer side to 20 px keeping the aspect ratio,
    and shifts the result so that its centre of mass lies at the centre of the 28×28 frame.
    """
    ink = np.asarray(ink, dtype=np.float32)
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    if rows.size == 0:
        raise NoInkError("nothing to read: the image has no ink")
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = BOX / max(crop.shape)
    height = max(1, round(crop.shape[0] * scale))
    width = max(1, round(crop.shape[1] * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(crop, (width, height), interpolation=interpolation)
    frame = np.zeros((SIZE, SIZE), np.float32)
    top, left = (SIZE - height) // 2, (SIZE - width) // 2
    frame[top : top + height, left : left + width] = small
    frame *= 255.0 / max(float(frame.max()), 1e-6)
    return _centre_by_mass(frame)


def _centre_by_mass(frame: np.ndarray) -> np.ndarray:
    total = frame.sum()
    grid_y, grid_x = np.indices(frame.shape)
    dy = (SIZE - 1) / 2 - (grid_y * frame).sum() / total
    dx = (SIZE - 1) / 2 - (grid_x * frame).sum() / total
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    moved = cv2.warpAffine(frame, shift, (SIZE, SIZE), flags=cv2.INTER_LINEAR)
    return np.clip(np.rint(moved), 0, 255).astype(np.uint8)
