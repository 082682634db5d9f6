"""What the page does with one input (an uploaded file, a drawing, a sample): a result to show.

Every failure becomes a `Failure` with a message in plain words, so the page shows it next to the
input instead of a traceback: a user's mistake says what to change, a bug says where its details
were logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from apps.settings import MAX_PIXELS_ENV
from handrec.decode import CHARSETS, Context, read_words
from handrec.errors import HandrecError
from handrec.inference import LineReading, Prediction, Predictor
from handrec.labels import DIGITS
from handrec.preprocess import (
    ImageTooLargeError,
    NoInkError,
    decode_image,
    find_ink,
    shrink,
    to_gray,
)

LOG = logging.getLogger("apps")
LINE_ASPECT = 2.5
"""Ink this many times wider than high is more likely a line of characters than one."""
T = TypeVar("T")


@dataclass(frozen=True)
class Character:
    """One character read: the image as given (gray), the model's answer, and whether the ink is
    so wide that it is more likely a line of characters (to suggest line mode)."""

    image: np.ndarray
    prediction: Prediction
    maybe_line: bool = False


@dataclass(frozen=True)
class Line:
    """A line of characters read: the image as given (gray) and the text with its characters."""

    image: np.ndarray
    reading: LineReading


@dataclass(frozen=True)
class Failure:
    """Why something could not be done, in words meant for the person using the page."""

    message: str


Result = Character | Line | Failure


def read_bytes(
    data: bytes,
    predictor: Predictor,
    *,
    line: bool,
    max_pixels: int,
    context: Context | None = None,
) -> Result:
    """An encoded image file (any format Pillow reads) → what the model makes of it."""
    try:
        image = decode_image(data, max_pixels)
    except ImageTooLargeError as error:
        return Failure(f"{sentence(error)} The page's limit is set by {MAX_PIXELS_ENV}.")
    except HandrecError as error:
        return Failure(sentence(error))
    return read_image(image, predictor, line=line, context=context)


def read_image(
    image: np.ndarray, predictor: Predictor, *, line: bool, context: Context | None = None
) -> Result:
    """A decoded image (gray, RGB or RGBA array) → the character, or the line, it holds; a line
    is read with `context` (handrec.decode's default when None)."""
    try:
        gray = to_gray(image)
        if line:
            return Line(gray, predictor.read_line(gray, context=context))
        return Character(gray, predictor.predict(gray), looks_like_a_line(gray))
    except NoInkError:
        return Failure(
            "Nothing to read: the image looks blank. Write darker or bigger, on a plain background."
        )
    except HandrecError as error:
        return Failure(sentence(error))


def line_context(pattern: str, words: str) -> Context:
    """The page's line constraints as a decoding context: a regular expression the line must
    match and a word list (words separated by spaces or lines), each optional."""
    return Context(pattern=pattern.strip() or None, words=read_words(words.splitlines()))


def charsets_for(classes: Sequence[str]) -> list[str]:
    """The character sets a person may choose for a model: "all", and "letters" and "digits"
    where the model knows both kinds (a digits-only model has nothing to choose)."""
    letters, digits = any(c.isalpha() for c in classes), any(c in DIGITS for c in classes)
    return list(CHARSETS) if letters and digits else ["all"]


def looks_like_a_line(gray: np.ndarray) -> bool:
    """Whether the ink of a gray image is much wider than high, to suggest line mode."""
    ink = find_ink(shrink(gray)[0]) > 0
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return columns[-1] - columns[0] + 1 > LINE_ASPECT * (rows[-1] - rows[0] + 1)


def attempt(action: Callable[[], T], doing: str) -> T | Failure:
    """`action()`, or a Failure: the message of a HandrecError (the user can fix it), or, for
    any other error (a bug), a plain sentence while the traceback goes to the server's log."""
    try:
        return action()
    except HandrecError as error:
        return Failure(sentence(error))
    except Exception:
        LOG.exception("failed while %s", doing)
        return Failure(
            f"Something went wrong while {doing}. The details are in the log of the terminal "
            "that runs the page."
        )


def sentence(error: Exception) -> str:
    """A library message ("cannot decode image: …") as a sentence of its own."""
    text = str(error).strip()
    return f"{text[:1].upper()}{text[1:]}{'' if text.endswith('.') else '.'}"
