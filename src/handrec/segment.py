"""A short line of characters ("HELLO 42") → one 28×28 image per character, left to right.

Ink is found once for the whole line with `preprocess.find_ink`; each character then goes through
`preprocess.fit_and_centre`, so a character cut from a line looks like one prepared on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from handrec.errors import require
from handrec.preprocess import find_ink, fit_and_centre, shrink, to_gray


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in the input image's pixels."""

    x: int
    y: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.x + self.width


@dataclass(frozen=True)
class Glyph:
    """One character of a line: the model's 28×28 input, where it was, and a space before it."""

    image: np.ndarray
    box: Box
    space_before: bool


@dataclass(frozen=True)
class SegmentParams:
    """How blobs of ink become characters and gaps become spaces (sizes are ratios of the
    typical character width).

    merge_overlap: blobs whose x-ranges overlap by at least this fraction of the narrower one are
        parts of one character (a broken stroke, the bar of a "5").
    gap_factor: the sorted gaps split into letter gaps and word gaps where one is at least this
        many times the one before, so tight and loose handwriting both work.
    space_min: a gap narrower than this is never a space (touching or tightly set letters).
    space_max: when the gaps do not split (every gap alike, "A B C" or "ABC"), those wider than
        this are spaces.
    """

    merge_overlap: float = 0.5
    gap_factor: float = 2.0
    space_min: float = 0.4
    space_max: float = 1.5

    def __post_init__(self) -> None:
        require(
            0 < self.merge_overlap <= 1,
            f"merge_overlap must be in (0, 1], got {self.merge_overlap}",
        )
        require(
            0 <= self.space_min <= self.space_max,
            f"need 0 <= space_min <= space_max, got {self.space_min} and {self.space_max}",
        )
        require(self.gap_factor > 1, f"gap_factor must be > 1, got {self.gap_factor}")


def segment_line(image: np.ndarray, params: SegmentParams | None = None) -> list[Glyph]:
    """An image of one line of characters → its characters, left to right.

    Raises preprocess.NoInkError when the image is blank.
    """
    params = params or SegmentParams()
    gray, scale = shrink(to_gray(image))
    ink = find_ink(gray)
    count, labels, stats, _ = cv2.connectedComponentsWithStats((ink > 0).astype(np.uint8), 8)
    blobs = [_stat_box(row) for row in stats[1:count]]
    groups = _merge_overlapping(blobs, params.merge_overlap)
    boxes = [_union([blobs[i] for i in group]) for group in groups]
    spaces = _spaces(boxes, params)
    return [
        Glyph(_character(ink, labels, group, box), _rescale(box, scale), space)
        for group, box, space in zip(groups, boxes, spaces, strict=True)
    ]


def _stat_box(row: np.ndarray) -> Box:
    x, y, width, height = (int(v) for v in row[:4])
    return Box(x, y, width, height)


def _merge_overlapping(blobs: list[Box], min_overlap: float) -> list[list[int]]:
    """Blob indices grouped into characters, groups sorted left to right."""
    groups: list[list[int]] = []
    left = right = 0
    for index in sorted(range(len(blobs)), key=lambda i: blobs[i].x):
        blob = blobs[index]
        overlap = min(right, blob.right) - max(left, blob.x)
        narrower = min(right - left, blob.width)
        if groups and overlap >= min_overlap * narrower:
            groups[-1].append(index)
            left, right = min(left, blob.x), max(right, blob.right)
        else:
            groups.append([index])
            left, right = blob.x, blob.right
    return groups


def _union(boxes: list[Box]) -> Box:
    x, y = min(b.x for b in boxes), min(b.y for b in boxes)
    right, bottom = max(b.right for b in boxes), max(b.y + b.height for b in boxes)
    return Box(x, y, right - x, bottom - y)


def _spaces(boxes: list[Box], params: SegmentParams) -> list[bool]:
    """For each character, whether a space precedes it (never before the first)."""
    if len(boxes) < 2:
        return [False] * len(boxes)
    gaps = np.array([b.x - a.right for a, b in zip(boxes[:-1], boxes[1:], strict=True)])
    width = float(np.median([max(b.width, b.height / 2) for b in boxes]))
    return [False, *(gaps > _space_threshold(np.maximum(gaps, 1.0), width, params)).tolist()]


def _space_threshold(gaps: np.ndarray, width: float, params: SegmentParams) -> float:
    """The gap (px) above which a gap is a space: between the two groups of gaps if they split
    into letter gaps and word gaps, else space_max widths; never under space_min widths."""
    ordered = np.sort(gaps)
    jumps = ordered[1:] / ordered[:-1]
    threshold = params.space_max * width
    if jumps.size and jumps.max() >= params.gap_factor:
        split = int(np.argmax(jumps))
        threshold = float(np.sqrt(ordered[split] * ordered[split + 1]))
    return max(threshold, params.space_min * width)


def _character(ink: np.ndarray, labels: np.ndarray, group: list[int], box: Box) -> np.ndarray:
    """The 28×28 image of one character: only its own blobs, not a neighbour's stroke tips."""
    window = np.s_[box.y : box.y + box.height, box.x : box.right]
    own = np.isin(labels[window], np.asarray(group) + 1)
    return fit_and_centre(np.where(own, ink[window], np.float32(0)))


def _rescale(box: Box, scale: float) -> Box:
    """A box in the shrunk working image → the same box in the input image."""
    if scale == 1.0:
        return box
    return Box(*(round(v / scale) for v in (box.x, box.y, box.width, box.height)))
