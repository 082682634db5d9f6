"""The one place where an image becomes the model's 28×28 input (MNIST style).

The app, the prediction CLI, the image-folder source and the glyph generator all call it, so a
model sees the same kind of input in training and in use. The steps:

    bytes ──decode_image──► gray uint8 [H, W] ──find_ink──► ink levels ──fit_and_centre──► 28×28

`prepare` runs the last two on one character; `handrec.segment` runs `find_ink` once on a line and
`fit_and_centre` on each character's ink, so both paths share every step.
"""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from handrec.errors import DataError, HandrecError, first_line

BOX = 20
SIZE = 28
MAX_PIXELS = 40_000_000
"""Default limit on width × height, checked from the header before any pixel is decoded."""
WORK_SIDE = 2048
"""Longer images are shrunk to this side first: 28×28 needs no more, and it bounds the cost."""
COARSE_SIDE = 512
"""Images longer than WORK_SIDE are first looked at this small, to find where their ink lies:
a 12-megapixel photo of one line is then shrunk and searched only around the line."""
LINE_HEIGHT = 64
"""A big photo's line is worked on with its ink at most this many pixels high: ample for the
28×28 characters and for telling their strokes and gaps apart (small scans have 30)."""
LINE_ASPECT = 4.0
"""Ink this many times wider than high is one line (a page edge or a table in view is not)."""
MIN_CONTRAST = 32.0
"""Ink and paper means (0–255) closer than this count as a blank image, not as faint ink."""
SPECK_RATIO = 0.02
"""Ink blobs smaller than this fraction of the largest blob are dust or noise, not strokes."""
UNEVEN_PAPER = 24.0
"""Paper whose border spreads over more shades than this (10th to 90th percentile) is lit
unevenly, as by a shadow across a photo: its shade is then taken locally, not as one level."""
PAPER_SIDE = 64
"""The local paper shade is estimated on a copy this small: lighting varies slowly."""
THIN_STROKE = 1.6
"""Strokes narrower than this many pixels once fitted in the 20 px box are thickened: thinner
than any MNIST digit's (their 5th percentile is 2.0 by `stroke_width`)."""
STROKE = 2.4
"""The width thin strokes are thickened to: MNIST's median by `stroke_width`."""
THICK_STROKE = 3.6
"""`thinned` narrows strokes wider than this in a prepared image, by `stroke_width` of its
pixels above a quarter of full ink: EMNIST's 90th percentile (3.57 over 3,000 prepared test
images; median 2.67)."""


class NoInkError(HandrecError):
    """The image holds nothing to read (blank, or uniform)."""


class ImageError(DataError):
    """The bytes are not an image that can be read."""


class ImageTooLargeError(ImageError):
    """The image has more pixels than the configured limit."""


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Encoded image (PNG, JPEG, BMP, TIFF, WebP, GIF…) → uint8 gray [H, W].

    The size is checked from the header before decoding, so a huge or hostile file costs nothing.
    Alpha is flattened onto the paper (see `to_gray`); EXIF rotation of phone photos is applied.
    """
    if not data:
        raise ImageError("empty image file: there are no bytes to decode")
    try:
        with warnings.catch_warnings():
            # Pillow warns of images past its own limit; here `max_pixels` is the limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                _check_size(image.size, max_pixels)
                return to_gray(_pixels(ImageOps.exif_transpose(image)))
    except Image.DecompressionBombError as error:  # Pillow's hard stop, ~179 megapixels
        raise ImageTooLargeError(f"image too large: {error}") from None
    except UnidentifiedImageError:
        raise ImageError("cannot decode image: not a known image format") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"cannot decode image: {first_line(error)}") from None


def prepare(image: np.ndarray) -> np.ndarray:
    """One character in any array form (see `to_gray`) → uint8 28×28, white ink on black.

    Raises NoInkError when there is nothing to read rather than guessing from noise.
    """
    gray, _ = shrink(to_gray(image))
    return fit_and_centre(find_ink(gray))


def reframe(images: np.ndarray) -> np.ndarray:
    """uint8 [N, 28, 28] white-on-black characters → the same, each through `prepare`.

    For data sets framed otherwise than `prepare` frames what a model is shown (EMNIST fits a
    24 px box centred by its box, not a 20 px one centred by mass), so that a model trains on
    what it will read. An image with no ink to find is kept as it is. OpenCV runs single-threaded
    meanwhile: on 28×28 images its threads cost more than they save (2.55 s against 3.65 s for
    20,000 EMNIST images on 2 cores).
    """
    framed = np.empty((len(images), SIZE, SIZE), np.uint8)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(0)
    try:
        for index, image in enumerate(images):
            try:
                framed[index] = prepare(image)
            except NoInkError:
                framed[index] = image
    finally:
        cv2.setNumThreads(threads)
    return framed


def to_gray(pixels: np.ndarray) -> np.ndarray:
    """[H, W], [H, W, 1], gray+alpha [H, W, 2], RGB [H, W, 3] or RGBA [H, W, 4] → uint8 [H, W].

    Integers wider than 8 bits are read as 16-bit; floats with max ≤ 1 as 0–1, else as 0–255.
    Transparent pixels become paper: the colour that contrasts with the opaque content, so
    dark strokes on a transparent canvas land on white and light strokes on black.
    """
    pixels = np.asarray(pixels)
    if pixels.dtype == np.uint8 and pixels.ndim == 2:
        return pixels
    levels = _levels(pixels)
    if levels.ndim == 3 and levels.shape[2] in (2, 4):
        levels = _flatten_alpha(levels[..., :-1], levels[..., -1] / 255.0)
    if levels.ndim == 3 and levels.shape[2] == 3:
        levels = cv2.cvtColor(levels, cv2.COLOR_RGB2GRAY)
    if levels.ndim == 3 and levels.shape[2] == 1:
        levels = levels[..., 0]
    if levels.ndim != 2 or min(levels.shape) == 0:
        raise ImageError(
            f"expected a gray, RGB or RGBA image, got an array of shape {pixels.shape}"
        )
    return np.rint(levels).astype(np.uint8)


def shrink(gray: np.ndarray, side: int = WORK_SIDE) -> tuple[np.ndarray, float]:
    """(image, scale) with the longer side at most `side`; scale maps original → shrunk."""
    scale = min(1.0, side / max(gray.shape))
    if scale == 1.0:
        return gray, scale
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def working_copy(gray: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
    """(copy, scale, (x, y)): the part of the image to work on, shrunk by `scale`, and where
    that part starts in the image. An image no longer than WORK_SIDE is worked on whole and as
    it is. A longer one is looked at about COARSE_SIDE small first: the part is the box of its
    ink grown by the ink's height on every side (an i's dot, a faint stroke the small copy
    misses), shrunk by the whole factor that makes the part at most WORK_SIDE long and, where
    the ink is a line (LINE_ASPECT times as wide as high), at most LINE_HEIGHT high; without
    ink in the small copy, the whole image is shrunk (`find_ink` then says why)."""
    if max(gray.shape) <= WORK_SIDE:
        return gray, 1.0, (0, 0)
    coarse = -(-max(gray.shape) // COARSE_SIDE)
    try:
        ink = find_ink(_binned(gray, coarse), speck_ratio=0.0)
    except NoInkError:
        return (*shrink(gray), (0, 0))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    grow = rows[-1] - rows[0] + 2
    top, bottom = _grown(rows[0], rows[-1], grow, coarse, gray.shape[0])
    left, right = _grown(cols[0], cols[-1], grow, coarse, gray.shape[1])
    part = gray[top:bottom, left:right]
    height, width = (rows[-1] - rows[0] + 1) * coarse, (cols[-1] - cols[0] + 1) * coarse
    factor = max(1, -(-max(part.shape) // WORK_SIDE))
    if width >= LINE_ASPECT * height:  # a line, not a page edge or rules across the photo
        factor = max(factor, -(-height // LINE_HEIGHT))
    return _binned(part, factor), 1 / factor, (int(left), int(top))


def _binned(gray: np.ndarray, factor: int) -> np.ndarray:
    """The mean of every factor × factor block (OpenCV's fast path for whole factors, three
    times faster than others on a 12-megapixel photo); a ragged edge is left out."""
    if factor == 1:
        return gray
    height, width = gray.shape[0] // factor, gray.shape[1] // factor
    return cv2.resize(
        gray[: height * factor, : width * factor], (width, height), interpolation=cv2.INTER_AREA
    )


def find_ink(
    gray: np.ndarray,
    min_contrast: float = MIN_CONTRAST,
    faint: float = 1.0,
    speck_ratio: float = SPECK_RATIO,
) -> np.ndarray:
    """uint8 gray of either polarity → float32 white-on-black ink: each stroke pixel's distance
    from the paper shade, exactly 0 off the strokes. NoInkError if there are none.

    The paper is the side of the Otsu threshold where the border's median lies, so dark-on-light
    and light-on-dark both work. Unevenly lit paper is flattened first (see `_flattened`).
    faint < 1 also keeps pixels that far from the paper towards the threshold where they touch
    ink above it (hysteresis), so thin faint strokes stay whole instead of breaking in pieces.
    Blobs smaller than speck_ratio × the largest are dropped as specks (0 keeps all, for a
    caller that judges specks by other measures, as `handrec.segment` does by the line's).
    """
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    mask = gray > threshold
    low, middle, high = np.percentile(_border(gray), [10, 50, 90])
    if middle > threshold:  # light paper: the ink is the dark side
        gray, mask = 255 - gray, ~mask
    if high - low > UNEVEN_PAPER:  # the spread is the same in either polarity
        gray = _flattened(gray)
        threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        mask = gray > threshold
    if mask.all() or not mask.any():
        raise NoInkError("nothing to read: the image is blank")
    paper = float(gray[~mask].mean())
    if float(gray[mask].mean()) - paper < min_contrast:
        raise NoInkError("nothing to read: the image has too little contrast to hold ink")
    if faint < 1:
        mask = _touching(gray >= paper + faint * (float(gray[mask].min()) - paper), mask)
    if speck_ratio > 0:
        mask = _drop_specks(mask, speck_ratio)
    return np.where(mask, gray.astype(np.float32) - paper, np.float32(0))


def fit_and_centre(ink: np.ndarray) -> np.ndarray:
    """White-on-black ink image of any size → uint8 28×28, MNIST style.

    Crops to the ink's bounding box, thickens strokes that would come out thinner than any in
    MNIST (a fine pen on a large photo), scales the longer side to 20 px keeping the aspect
    ratio, and shifts the result so that its centre of mass lies at the centre of the frame.
    """
    crop = _thickened(_crop(np.asarray(ink, dtype=np.float32)))
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


def thinned(prepared: np.ndarray) -> np.ndarray:
    """A prepared 28×28 image with its strokes eroded a pixel at a time until they are at most
    THICK_STROKE wide, re-centred by mass. For a character fitted from far fewer pixels than
    its neighbours (the short stem of a dotted I): blown up to 20 px, its strokes come out
    wider than nearly all the model learnt from, and it reads as a B."""
    frame, square = prepared.astype(np.float32), np.ones((2, 2), np.uint8)
    while stroke_width(frame > 64) > THICK_STROKE:
        frame = cv2.erode(frame, square)
    if frame.max() <= 64 or np.array_equal(frame, prepared):
        return prepared
    return _centre_by_mass(frame * (255.0 / frame.max()))


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: twice the ink's area over its edge pixels (a stroke of
    width w and length L has area w·L and 2·L edge pixels). It reads at least 2 for strokes
    of 1–2 px, so it tells thin strokes apart only in images larger than the 28×28 frame."""
    mask = (ink > 0).astype(np.uint8)
    edge = int(mask.sum()) - int(cv2.erode(mask, np.ones((3, 3), np.uint8)).sum())
    return 2 * float(mask.sum()) / max(edge, 1)


def _crop(ink: np.ndarray) -> np.ndarray:
    """The bounding box of the ink; NoInkError when there is none."""
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    if rows.size == 0:
        raise NoInkError("nothing to read: the image has no ink")
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _thickened(crop: np.ndarray) -> np.ndarray:
    """Strokes dilated so that they are STROKE px wide once fitted in the box, if they would
    be thinner than THIN_STROKE; others unchanged."""
    scale = BOX / max(crop.shape)
    width = stroke_width(crop)
    radius = round((STROKE / scale - width) / 2)
    if width * scale >= THIN_STROKE or radius < 1:
        return crop
    return _dilated(np.pad(crop, radius), radius)


def _dilated(image: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation by an octagon of the given radius, near a disc: 3×3 crosses and squares in
    turn, which costs radius × 9 per pixel where a disc costs radius² × 3."""
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    square = np.ones((3, 3), np.uint8)
    for step in range(radius):
        image = cv2.dilate(image, cross if step % 2 else square)
    return image


def _centre_by_mass(frame: np.ndarray) -> np.ndarray:
    moments = cv2.moments(frame)
    dy = (SIZE - 1) / 2 - moments["m01"] / moments["m00"]
    dx = (SIZE - 1) / 2 - moments["m10"] / moments["m00"]
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    moved = cv2.warpAffine(frame, shift, (SIZE, SIZE), flags=cv2.INTER_LINEAR)
    return np.clip(np.rint(moved), 0, 255).astype(np.uint8)


def _grown(first: int, last: int, grow: int, factor: int, limit: int) -> tuple[int, int]:
    """[first, last] in a copy binned by `factor`, grown by `grow` on both sides → the same
    range [start, stop) in the original's pixels, within [0, limit)."""
    return max(0, (first - grow) * factor), min(limit, (last + 1 + grow) * factor)


def _check_size(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"image too large: {width}×{height} = {width * height:,} pixels, the limit is "
            f"{max_pixels:,}; shrink it or raise max_pixels"
        )


def _pixels(image: Image.Image) -> np.ndarray:
    """Pillow image → array in one of the layouts `to_gray` reads (16-bit kept as is)."""
    if image.mode in ("L", "RGB", "RGBA", "I", "F") or image.mode.startswith("I;16"):
        return np.asarray(image)
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def _levels(pixels: np.ndarray) -> np.ndarray:
    """Any numeric array → float32 on the 0–255 scale."""
    if pixels.dtype == np.bool_:
        return pixels.astype(np.float32) * 255
    if pixels.dtype == np.uint8:
        return pixels.astype(np.float32)
    if np.issubdtype(pixels.dtype, np.integer):
        return np.clip(pixels.astype(np.float32) / 257, 0, 255)
    if np.issubdtype(pixels.dtype, np.floating):
        scale = 255.0 if pixels.size and np.nanmax(pixels) <= 1.0 else 1.0
        return np.clip(np.nan_to_num(pixels.astype(np.float32)) * scale, 0, 255)
    raise ImageError(f"expected numeric pixels, got an array of dtype {pixels.dtype}")


def _flatten_alpha(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite onto the shade (white or black) that contrasts with the opaque content."""
    if alpha.min() >= 1.0:
        return colour
    coverage = float(alpha.sum())
    opaque_mean = float((colour.mean(axis=-1) * alpha).sum()) / coverage if coverage else 0.0
    paper = 255.0 if opaque_mean < 128 else 0.0
    return colour * alpha[..., None] + paper * (1.0 - alpha[..., None])


def _flattened(gray: np.ndarray) -> np.ndarray:
    """Bright ink on unevenly lit dark paper → the same under even light.

    The local paper shade is a grey opening of a PAPER_SIDE copy by a disc a sixth of its side,
    which removes the strokes and keeps the lighting, blurred and scaled back up. Each pixel's
    excess over it is divided by what the light left for ink there (255 − shade): for dark ink
    on light paper that is the ratio of the two reflectances, which a shadow does not change.
    """
    small, _ = shrink(gray, PAPER_SIDE)
    side = max(3, round(min(small.shape) / 6)) | 1
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (side, side))
    paper = cv2.blur(cv2.morphologyEx(small, cv2.MORPH_OPEN, disc), (side, side))
    size = (gray.shape[1], gray.shape[0])
    paper = cv2.resize(paper, size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    excess = (gray.astype(np.float32) - paper) / (256.0 - paper)
    return np.clip(np.rint(excess * 255), 0, 255).astype(np.uint8)


def _border(gray: np.ndarray) -> np.ndarray:
    """The outer ring of the image, about 2% of the shorter side thick (at least 1 px)."""
    width = max(1, min(gray.shape) // 50)
    ring = np.ones(gray.shape, bool)
    ring[width:-width, width:-width] = False
    return gray[ring]


def _touching(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """The blobs of `weak` that hold a pixel of `strong`."""
    _, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    keep = np.zeros(labels.max() + 1, bool)
    keep[labels[strong & weak]] = True
    keep[0] = False
    return keep[labels]


def _drop_specks(mask: np.ndarray, ratio: float = SPECK_RATIO) -> np.ndarray:
    """Bool mask of the blobs whose area is at least `ratio` × the largest blob's."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.concatenate([[False], areas >= ratio * areas.max()])
    return keep[labels]
