"""A short line of characters ("HELLO 42") → one 28×28 image per character, left to right.

Ink is found once for the whole line with `preprocess.find_ink`; each character then goes through
`preprocess.fit_and_centre`, so a character cut from a line looks like one prepared on its own.
On the way, what a photo or a scan adds besides the characters is left out, and blobs of ink are
made into characters by the line's own measures (its character height, widths and gaps):

1. ruled lines and the page's edge: runs of ink longer than half the image (and than a few
   characters) are removed before blobs are found;
2. blobs that are no characters: specks much smaller than the line's characters, dots and
   accents (at the top of the line, just above a stem, or drawn onto a stem's top: the dotted I
   of many writers), blobs beside the band the characters sit in, strips far taller than the
   characters (a table's edge in view), long flat ones (an underline), and short smudges set
   apart at the ends;
3. the strokes of one character: blobs whose x-ranges overlap (a broken stroke, the dot of an i),
   neighbours far closer than the line's letter gaps whose union is no wider than a character
   (an H drawn as two strokes), and strokes flatter than any character joined to the neighbour
   they touch (the bar of a 5 drawn apart) or left out (a dash);
4. touching characters: a blob much wider than the line's typical character is cut at the columns
   of least ink, into the number of pieces the model reads most surely when `segment_line` is
   given a scorer (`Predictor.read_line` gives it), else into as many as it is wide; never
   through a closed loop (an O) nor into a piece flatter than a character (an L's long foot);
5. spaces: a gap is a space when it exceeds the line's typical letter gap by most of a character
   height, so evenly spaced capitals stay one word however wide they are set, and is no less
   than half the line's widest gap (word gaps are alike: a letter gap beside a narrow 1 is none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

import cv2
import numpy as np

from handrec.errors import require
from handrec.preprocess import find_ink, fit_and_centre, thinned, to_gray, working_copy

Scorer = Callable[[np.ndarray], np.ndarray]
"""Prepared images [N, 28, 28] → the model's confidence in each [N]."""


RULE_LENGTH = 3.0
"""Runs of ink at least this many character heights long are rules, not strokes."""
SHORT = 0.75
"""Characters shorter than this many of the line's heights get their strokes thinned."""
FLAT = 0.4
"""No character is flatter than this many of the line's heights: a piece that is, is a stroke."""
NARROW = 0.45
"""Parts at most this many times as wide as high are stems (an I, a 1) that a dot may touch."""
DOT_TOP = 0.4
"""A dot drawn onto a stem's top takes at most this share of the stem's height."""
"""No character is flatter than this many of the line's heights: a piece that is, is a stroke."""
RULE_CLEAR = 0.95
"""A rule runs clear of other ink over more than 1 − this of its length (between words)."""


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

    @property
    def bottom(self) -> int:
        return self.y + self.height


@dataclass(frozen=True)
class Glyph:
    """One character of a line: the model's 28×28 input, where it was, and a space before it."""

    image: np.ndarray
    box: Box
    space_before: bool


@dataclass(frozen=True)
class SegmentParams:
    """How blobs of ink become characters and gaps become spaces. Sizes are ratios of the line's
    character height (the median height of its larger blobs) unless said otherwise.

    merge_overlap: blobs whose x-ranges overlap by at least this fraction of the narrower one are
        parts of one character (a broken stroke, the dot of an i).
    join_gap: neighbours closer than this fraction of the line's median gap (and at most 1 px
        apart otherwise) are strokes of one character, if together no wider than join_width.
    join_width: the widest union of two strokes that is still one character, in typical widths.
    split_width: a blob wider than this many typical character widths is touching characters.
    faint: ink this far from the paper towards the ink threshold is kept where it touches ink
        (see `preprocess.find_ink`): thin strokes in small scans break otherwise.
    speck: blobs whose width and height are both under this are dust, not strokes.
    dot: blobs this small at the top of the line are dots and accents (of an i, an É), which
        capitals do not have.
    stem_dot: blobs this small just above a stem (a blob far narrower than high) are the dot of
        an i written inside the line's band.
    space_gap: a gap wider than the line's median gap by more than this is a space.
    space_ratio: in tightly set text (print), a gap this many times the median gap, and wider
        than it by 0.3, is a space too.
    space_max: any gap wider than this is a space (a line whose every gap is a space, "A B C").
    space_share: below space_max, a space is at least this share of the line's widest gap: the
        word gaps of one line are alike, and a letter gap widened (by a narrow 1, a tail left
        out) is no word gap beside them.
    """

    merge_overlap: float = 0.5
    join_gap: float = 0.35
    join_width: float = 1.3
    split_width: float = 1.7
    faint: float = 0.25
    speck: float = 0.3
    dot: float = 0.45
    stem_dot: float = 0.6
    space_gap: float = 0.8
    space_ratio: float = 3.0
    space_max: float = 2.0
    space_share: float = 0.5

    def __post_init__(self) -> None:
        require(
            0 < self.merge_overlap <= 1,
            f"merge_overlap must be in (0, 1], got {self.merge_overlap}",
        )
        require(self.join_gap >= 0, f"join_gap must be >= 0, got {self.join_gap}")
        require(self.split_width > 1, f"split_width must be > 1, got {self.split_width}")
        require(0 < self.faint <= 1, f"faint must be in (0, 1], got {self.faint}")
        require(self.space_ratio > 1, f"space_ratio must be > 1, got {self.space_ratio}")
        require(0 <= self.speck < 1, f"speck must be in [0, 1), got {self.speck}")
        require(
            0 < self.space_gap <= self.space_max,
            f"need 0 < space_gap <= space_max, got {self.space_gap} and {self.space_max}",
        )


@dataclass(frozen=True)
class _Part:
    """A character being assembled: the blobs it takes its pixels from, within its box."""

    blobs: tuple[int, ...]
    box: Box


def segment_line(
    image: np.ndarray, params: SegmentParams | None = None, score: Scorer | None = None
) -> list[Glyph]:
    """An image of one line of characters → its characters, left to right.

    score: prepared 28×28 images [N, 28, 28] → how surely the model reads each [N]; with it, a
    wide blob is cut into the number of characters the model reads best (an M stays whole,
    two touching digits are cut), without it into as many as it is wide.
    Raises preprocess.NoInkError when the image is blank.
    """
    params = params or SegmentParams()
    gray, scale, offset = working_copy(to_gray(image))
    ink = find_ink(gray, faint=params.faint, speck_ratio=0.0)
    labels, blobs = _blobs(_without_long_runs(ink > 0))
    if not blobs or _character_height(blobs, ink.shape) * RULE_LENGTH > ink.shape[1] // 2:
        labels, blobs = _blobs(ink > 0)  # the runs were all there was, or big characters' strokes
    size = _character_height(blobs, ink.shape)
    kept = _characters_only(blobs, size, ink.shape, params)
    parts = _merge_overlapping(kept, params.merge_overlap)
    if not parts:
        parts = _merge_overlapping(blobs, params.merge_overlap)
    close = _close_gap(parts, params)
    parts = _flat_strokes_joined(_join_strokes(parts, params, close), size, close)
    parts = _without_strays(parts, size)
    parts = _split_wide(parts, ink, labels, size, params, score)
    parts = [_without_touching_dot(part, labels) for part in parts]
    spaces = _spaces([p.box for p in parts], size, params)
    return [
        Glyph(_character(ink, labels, part, size), _rescale(part.box, scale, offset), space)
        for part, space in zip(parts, spaces, strict=True)
    ]


def _stat_box(row: np.ndarray) -> Box:
    x, y, width, height = (int(v) for v in row[:4])
    return Box(x, y, width, height)


def _blobs(mask: np.ndarray) -> tuple[np.ndarray, dict[int, Box]]:
    """The mask's 8-connected blobs: a label image and each label's box."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    return labels, {i: _stat_box(stats[i]) for i in range(1, count)}


def _without_long_runs(mask: np.ndarray) -> np.ndarray:
    """The mask less its ruled lines and page edges: horizontal runs longer than half the image
    that span (nearly) all the ink from left to right and run partly clear of other ink (the
    flat bottoms of a row of touching characters do not; `segment_line` also keeps runs where
    the characters are so big that they are strokes)."""
    rows = np.flatnonzero(mask.sum(axis=1) >= 0.4 * mask.shape[1])
    if not rows.size:
        return mask  # no row holds enough ink for a rule: the common case, at no cost
    columns = np.flatnonzero(mask.any(axis=0))
    span = columns[-1] - columns[0] + 1
    line = mask[rows].astype(np.uint8)  # horizontal filters see one row at a time
    closed = cv2.morphologyEx(line, cv2.MORPH_CLOSE, np.ones((1, 5), np.uint8))
    runs = np.zeros(mask.shape, np.uint8)
    runs[rows] = cv2.morphologyEx(
        closed, cv2.MORPH_OPEN, np.ones((1, mask.shape[1] // 2), np.uint8)
    )
    top, bottom = rows[0], rows[-1] + 1
    count, found, stats, _ = cv2.connectedComponentsWithStats(runs[top:bottom], 8)
    labels = np.zeros(mask.shape, np.uint16)
    labels[top:bottom] = found
    bands = cv2.dilate(labels, np.ones((3, 1), np.uint8))
    others = mask & (bands == 0)
    kept = mask.copy()
    for index in np.flatnonzero(stats[1:count, cv2.CC_STAT_WIDTH] >= 0.9 * span) + 1:
        left, width = stats[index, cv2.CC_STAT_LEFT], stats[index, cv2.CC_STAT_WIDTH]
        if others[:, left : left + width].any(axis=0).mean() < RULE_CLEAR:
            kept &= bands != index
    return kept


def _character_height(blobs: dict[int, Box], shape: tuple[int, int]) -> float:
    """The line's character height: the median height of its larger blobs, those inside the
    image's border first (a page edge or table there is no character)."""
    inside = [
        b
        for b in blobs.values()
        if b.x > 0 and b.y > 0 and b.right < shape[1] and b.bottom < shape[0]
    ]
    pool = inside or list(blobs.values())
    tallest = max(b.height for b in pool)
    return float(np.median([b.height for b in pool if b.height >= 0.3 * tallest]))


def _characters_only(
    blobs: dict[int, Box], size: float, shape: tuple[int, int], params: SegmentParams
) -> dict[int, Box]:
    """The blobs that may be (parts of) characters: not specks or dots, not beside the line's
    band, not strips much taller than a character or much longer and flatter than one."""
    big = [b for b in blobs.values() if b.height >= 0.5 * size and b.height <= 2 * size]
    top = float(np.median([b.y for b in big])) if big else 0.0
    bottom = float(np.median([b.bottom for b in big])) if big else float(shape[0])
    kept = {}
    for index, box in blobs.items():
        small = max(box.width, box.height) < params.speck * size
        dot = max(box.width, box.height) < params.dot * size and box.bottom < top + 0.3 * size
        beside = box.bottom < top - 0.1 * size or box.y > bottom + 0.1 * size
        tall = box.height > 2.2 * size
        flat = box.width > 3 * size and box.height < 0.4 * size
        if not (small or dot or beside or tall or flat):
            kept[index] = box
    for index in _dots_over_stems(kept, size, params.stem_dot):
        del kept[index]
    return kept


def _dots_over_stems(blobs: dict[int, Box], size: float, dot: float) -> list[int]:
    """The round blobs no bigger than `dot` line heights that sit clear above a stem, beside or
    over it: a blob at least half the line's height and at most half as wide as high (the dot
    of an i; the bar of an E or a T is flat, not round)."""
    stems = [
        b
        for b in blobs.values()
        if b.height >= 0.5 * size and b.width <= min(0.5 * b.height, 0.5 * size)
    ]
    return [
        index
        for index, box in blobs.items()
        if max(box.width, box.height) <= min(dot * size, 2 * min(box.width, box.height))
        and any(
            box.bottom <= stem.y + 1
            and box.height < stem.height
            and min(box.right, stem.right) >= max(box.x, stem.x)
            for stem in stems
        )
    ]


def _merge_overlapping(blobs: dict[int, Box], min_overlap: float) -> list[_Part]:
    """Blobs grouped into characters where their x-ranges overlap, left to right."""
    parts: list[_Part] = []
    for index in sorted(blobs, key=lambda i: blobs[i].x):
        blob = blobs[index]
        if parts:
            last = parts[-1].box
            overlap = min(last.right, blob.right) - max(last.x, blob.x)
            if overlap >= min_overlap * min(last.width, blob.width):
                parts[-1] = _Part((*parts[-1].blobs, index), _union(last, blob))
                continue
        parts.append(_Part((index,), blob))
    return parts


def _close_gap(parts: list[_Part], params: SegmentParams) -> float:
    """Gaps no wider than this are between strokes of one character: join_gap of the line's
    median gap, and at least 1 px."""
    gaps = [b.box.x - a.box.right for a, b in pairwise(parts)]
    return max(1.0, params.join_gap * float(np.median(gaps))) if gaps else 1.0


def _flat(box: Box, size: float) -> bool:
    """Whether a box is flatter than any character: wider than high, and lower than FLAT of
    the line's height (a stroke, not a character; the stem of a dotted I is narrow)."""
    return box.height < FLAT * size and box.width > box.height


def _gap(a: Box, b: Box) -> int:
    """The horizontal gap between two boxes, negative where they overlap."""
    return max(a.x - b.right, b.x - a.right)


def _join_strokes(parts: list[_Part], params: SegmentParams, close: float) -> list[_Part]:
    """Neighbours `close` or closer, together no wider than a character, made one character
    (an H or an N drawn as separate strokes)."""
    if len(parts) < 3:
        return parts
    width = _typical_width(parts)
    joined = [parts[0]]
    for part in parts[1:]:
        last = joined[-1]
        union = _union(last.box, part.box)
        if part.box.x - last.box.right <= close and union.width <= params.join_width * width:
            joined[-1] = _Part((*last.blobs, *part.blobs), union)
        else:
            joined.append(part)
    return joined


def _flat_strokes_joined(parts: list[_Part], size: float, close: float) -> list[_Part]:
    """The parts flatter than any character (the bar of a 5 or an E drawn apart, a dash) made
    part of the nearer neighbour where that is `close` or closer, else left out."""
    parts = list(parts)
    index = 0
    while index < len(parts):
        flat = parts[index]
        if not _flat(flat.box, size) or len(parts) == 1:
            index += 1
            continue
        near = min(
            (i for i in (index - 1, index + 1) if 0 <= i < len(parts)),
            key=lambda i: _gap(parts[i].box, flat.box),
        )
        if _gap(parts[near].box, flat.box) <= close:
            joined = _union(parts[near].box, flat.box)
            parts[near] = _Part((*parts[near].blobs, *flat.blobs), joined)
        del parts[index]
    return parts


def _without_strays(parts: list[_Part], size: float) -> list[_Part]:
    """The parts less those at either end that are far shorter than a character and set well
    apart from the rest: a smudge or a stroke of the form, not a character."""

    def stray(part: _Part, neighbour: _Part) -> bool:
        gap = max(part.box.x - neighbour.box.right, neighbour.box.x - part.box.right)
        return part.box.height < 0.6 * size and gap > 1.5 * size

    while len(parts) > 1 and stray(parts[-1], parts[-2]):
        parts = parts[:-1]
    while len(parts) > 1 and stray(parts[0], parts[1]):
        parts = parts[1:]
    return parts


def _typical_width(parts: list[_Part]) -> float:
    """The line's typical character width: the median width, kept between 0.5 and 0.8 of the
    median height (capitals' range), so a line of touching characters still has a measure."""
    width = float(np.median([p.box.width for p in parts]))
    height = float(np.median([p.box.height for p in parts]))
    return float(np.clip(width, 0.5 * height, 0.8 * height))


def _split_wide(
    parts: list[_Part],
    ink: np.ndarray,
    labels: np.ndarray,
    size: float,
    params: SegmentParams,
    score: Scorer | None,
) -> list[_Part]:
    """Each part much wider than the line's typical character cut into characters at the
    columns of least ink: into as many as it is wide, or, given a scorer, into the number
    (from 1 up) whose pieces the model reads most surely (mean log confidence); only into
    pieces that characters can be (see `_cut`)."""
    if not parts:
        return parts
    width = _typical_width(parts)
    options: dict[int, list[list[_Part]]] = {}
    for index, part in enumerate(parts):
        most = round(part.box.width / width)
        if part.box.width > params.split_width * width and most >= 2:
            counts = range(1, most + 2) if score else range(most, 0, -1)
            cuts = [_cut(part, count, labels, size) for count in counts]
            options[index] = [cut for cut in cuts if cut is not None][: None if score else 1]
    if score is not None and options:
        pieces = [piece for choices in options.values() for cut in choices for piece in cut]
        confidence = iter(
            np.log(
                np.maximum(
                    score(np.stack([_character(ink, labels, p, size) for p in pieces])), 1e-9
                )
            )
        )
        for index, choices in options.items():
            means = [np.mean([next(confidence) for _ in cut]) for cut in choices]
            options[index] = [choices[int(np.argmax(means))]]
    out = []
    for index, part in enumerate(parts):
        out += options[index][0] if index in options else [part]
    return out


def _cut(part: _Part, count: int, labels: np.ndarray, size: float) -> list[_Part] | None:
    """The part cut into `count` pieces at the columns of least ink near the even cuts, or None
    where that cannot be done as characters are: a cut never crosses a closed loop (the hole of
    an O, a D, an 8), nor leaves a piece flatter than any character (the foot of an L, the bar
    of an E or a 5)."""
    if count == 1:
        return [part]
    box = part.box
    own = np.isin(labels[box.y : box.bottom, box.x : box.right], part.blobs)
    columns = np.where(_loop_columns(own, size), np.inf, own.sum(axis=0))
    cuts, reach = [0], max(1, round(0.3 * box.width / count))
    for k in range(1, count):
        centre = round(k * box.width / count)
        low, high = max(cuts[-1] + 1, centre - reach), min(box.width - 1, centre + reach)
        if high < low or np.isinf(columns[low : high + 1]).all():
            return None
        cuts.append(low + int(np.argmin(columns[low : high + 1])))
    cuts.append(box.width)
    pieces = []
    for left, right in zip(cuts[:-1], cuts[1:], strict=True):
        rows = np.flatnonzero(own[:, left:right].any(axis=1))
        if rows.size:
            top, height = box.y + int(rows[0]), int(rows[-1] - rows[0]) + 1
            pieces.append(_Part(part.blobs, Box(box.x + left, top, right - left, height)))
    loops = sum(len(_loops(own[:, left:right], size)) for left, right in pairwise(cuts))
    if loops < len(_loops(own, size)) or any(_flat(p.box, size) for p in pieces):
        return None
    return pieces


def _loops(own: np.ndarray, size: float) -> list[tuple[int, int]]:
    """The first and last column of each closed loop's hole in a part: background not reaching
    its box, at least a tenth of the line's height across both ways (a speck of paper in a
    stroke is none)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((~own).astype(np.uint8), connectivity=4)
    least = max(2.0, 0.1 * size)
    return [
        (x, x + width - 1)
        for x, y, width, height, _ in stats[1:count]
        if x > 0
        and y > 0
        and x + width < own.shape[1]
        and y + height < own.shape[0]
        and min(width, height) >= least
    ]


def _loop_columns(own: np.ndarray, size: float) -> np.ndarray:
    """bool [columns]: the columns through a part's holes, where the least ink often is (an O's
    middle holds two thin arcs) but no cut may go."""
    columns = np.zeros(own.shape[1], bool)
    for first, last in _loops(own, size):
        columns[first : last + 1] = True
    return columns


def _without_touching_dot(part: _Part, labels: np.ndarray) -> _Part:
    """A stem with a dot drawn onto its top (a dotted I whose dot touches it) → the stem: in a
    part far narrower than high, the top rows at least twice as wide as the stem below them, if
    they are a roundish blob closed at its top and centred on the stem, at most DOT_TOP of the
    part's height, and the rest is stem alone (a P's bowl is to the side, a Y's arms are open at
    the top). Other parts as they are."""
    box = part.box
    if box.width > NARROW * box.height:
        return part
    own = np.isin(labels[box.y : box.bottom, box.x : box.right], part.blobs)
    widths = own.sum(axis=1)
    stem = max(1.0, float(np.median(widths[box.height // 2 :])))
    wide = np.flatnonzero(widths >= 2 * stem)
    thin = widths <= 1.5 * stem + 1
    if wide.size == 0 or not thin[wide[-1] + 1 :].any():
        return part
    top = wide[-1] + 1 + int(np.argmax(thin[wide[-1] + 1 :]))  # the neck below the dot
    first = own[wide[0]].astype(np.int8)
    closed = np.count_nonzero(np.diff(first) == 1) + first[0] == 1  # its widest rows begin whole
    dot = np.flatnonzero(own[:top].any(axis=0))
    foot = np.flatnonzero(own[box.height // 2 :].any(axis=0))
    round_ = dot.size <= 2 * top
    centred = abs(dot.mean() - foot.mean()) <= (stem + 1) / 2  # a P's bowl is to the side
    low = 2 <= top <= DOT_TOP * box.height + 1
    if not (closed and round_ and centred and low and thin[top:].all()):
        return part
    rows = np.flatnonzero(own[top:].any(axis=1)) + top
    return _Part(
        part.blobs, Box(box.x, box.y + int(rows[0]), box.width, int(rows[-1] - rows[0]) + 1)
    )


def _union(a: Box, b: Box) -> Box:
    x, y = min(a.x, b.x), min(a.y, b.y)
    return Box(x, y, max(a.right, b.right) - x, max(a.bottom, b.bottom) - y)


def _spaces(boxes: list[Box], size: float, params: SegmentParams) -> list[bool]:
    """For each character, whether a space precedes it (never before the first): its gap exceeds
    the line's median gap by space_gap heights, or by space_ratio times in tight text, and is
    space_share of the widest gap; or it is wider than space_max heights."""
    if len(boxes) < 2:
        return [False] * len(boxes)
    gaps = np.array([b.x - a.right for a, b in zip(boxes[:-1], boxes[1:], strict=True)], float)
    typical = float(np.median(gaps))
    wide = gaps > typical + params.space_gap * size
    tight = (gaps > params.space_ratio * max(typical, 0.1 * size)) & (gaps > typical + 0.3 * size)
    alike = gaps >= params.space_share * gaps.max()
    return [False, *(((wide | tight) & alike) | (gaps > params.space_max * size)).tolist()]


def _character(ink: np.ndarray, labels: np.ndarray, part: _Part, size: float) -> np.ndarray:
    """The 28×28 image of one character: only its own blobs, not a neighbour's stroke tips;
    with its strokes thinned when it is far shorter than the line's characters (and so blown
    up more than they are)."""
    window = np.s_[part.box.y : part.box.bottom, part.box.x : part.box.right]
    own = np.isin(labels[window], part.blobs)
    glyph = fit_and_centre(np.where(own, ink[window], np.float32(0)))
    return thinned(glyph) if part.box.height < SHORT * size else glyph


def _rescale(box: Box, scale: float, offset: tuple[int, int]) -> Box:
    """A box in the shrunk working image of the region at `offset` → the same box in the input
    image."""
    x, y, width, height = (round(v / scale) for v in (box.x, box.y, box.width, box.height))
    return Box(x + offset[0], y + offset[1], width, height)
