"""From each character's probabilities to what a line says: character sets and context.

The model scores every character on its own, so look-alikes (O and 0, S and 5, I and 1, Z and 2)
are decided by a hair. A reading has more to go on:

- a **character set**: the person says the field holds letters (a name) or digits (a phone
  number), and the probabilities are renormalised over those classes alone;
- the **line's context**: the characters of one word are nearly always all letters or all
  digits, so each word is read as the most likely characters when switching kind (letter, digit)
  between neighbours costs `Context.switch_cost` (in nats, a log-probability);
- optional **constraints**: a regular expression the whole line must match, and a word list whose
  most likely word replaces a word when it explains the image nearly as well as the free reading.

`decode_line` turns a line's probabilities and the segmentation's glyphs into a `LineReading`
holding both the decoded text (what the user gets) and the free one (each character's most likely
class in the character set), with every character's confidence and box.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import regex

from handrec.errors import ConfigError, require
from handrec.labels import DIGITS
from handrec.segment import Box, Glyph

CHARSETS = ("all", "letters", "digits")
"""Named character sets; any other string is the explicit list of allowed characters."""
SWITCH_COST = 4.0
"""Nats charged for each change between letter and digit inside a word (tuned in
benchmarks/read_lines.py on synthetic lines; see the README)."""
WORD_MARGIN = 0.7
"""Nats per character a listed word may fall short of the free reading and still be chosen."""
BEAM = 64
"""Partial readings kept while searching for one that matches a pattern."""
FLOOR = 1e-30
"""Probabilities are floored here before logs: an impossible class costs much, but finitely."""


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one character.

    top_k holds (label, probability) pairs, most likely first; image is the 28×28 uint8 input the
    model saw (to show next to the answer); box is where the character was in a line, if it was.
    In a line reading, label and confidence are the decoded reading's character and its
    probability, which context may make differ from top_k[0] (the free reading's).
    """

    label: str
    confidence: float
    top_k: tuple[tuple[str, float], ...]
    image: np.ndarray
    box: Box | None = None

    @property
    def free_label(self) -> str:
        """The most likely character, read on its own."""
        return self.top_k[0][0]


@dataclass(frozen=True)
class LineReading:
    """A line read: the decoded text (spaces included), the free text (each character's most
    likely class, no context), and the prediction behind each character, left to right.

    pattern_matched is None without a pattern, else whether some reading matched it (when none
    did, text is the reading without the pattern).
    """

    text: str
    characters: tuple[Prediction, ...]
    free_text: str = ""
    pattern_matched: bool | None = None


@dataclass(frozen=True)
class Context:
    """How a line's characters are read together.

    switch_cost: nats charged per change of kind (letter ↔ digit) between neighbours in a word;
        0 reads every character on its own.
    pattern: a regular expression the line's characters (spaces left out) must match in full,
        e.g. "[0-9]{10}" for a phone number.
    words: words a word of the line may be (matched ignoring case when the model has no
        lowercase classes).
    word_margin: how many nats per character a listed word may explain the image worse than the
        free reading and still be chosen.
    """

    switch_cost: float = SWITCH_COST
    pattern: str | None = None
    words: tuple[str, ...] = field(default=(), repr=False)
    word_margin: float = WORD_MARGIN

    def __post_init__(self) -> None:
        require(self.switch_cost >= 0, f"switch_cost must be >= 0, got {self.switch_cost}")
        require(self.word_margin >= 0, f"word_margin must be >= 0, got {self.word_margin}")
        if self.pattern is not None:
            try:
                regex.compile(self.pattern)
            except regex.error as error:
                raise ConfigError(
                    f"pattern {self.pattern!r} is not a regular expression: {error}"
                ) from None


FREE = Context(switch_cost=0.0)
"""Every character read on its own: the free reading."""


def charset_mask(classes: Sequence[str], charset: str) -> np.ndarray:
    """bool [classes]: the model's classes that a reading with this character set may use.

    charset: "all", "letters", "digits", or the allowed characters themselves ("0123456789X").
    """
    if charset == "all":
        return np.ones(len(classes), bool)
    if charset == "letters":
        mask = np.array([c.isalpha() for c in classes])
    elif charset == "digits":
        mask = np.array([c in DIGITS for c in classes])
    else:
        require(bool(charset), f"charset is empty: give {', '.join(CHARSETS)} or characters")
        unknown = sorted(set(charset) - set(classes))
        require(
            not unknown,
            f"charset {charset!r} has characters the model does not know: {unknown}; give "
            f"{', '.join(CHARSETS)} or characters from {''.join(classes)}",
        )
        mask = np.array([c in charset for c in classes])
    require(
        bool(mask.any()),
        f"charset {charset!r} allows none of the model's classes ({''.join(classes)})",
    )
    return mask


def restrict(probabilities: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """float [N, classes] → the same renormalised over the allowed classes (0 elsewhere)."""
    kept = np.where(allowed, np.asarray(probabilities, np.float64) + FLOOR, 0.0)
    return (kept / kept.sum(axis=1, keepdims=True)).astype(np.float32)


def decode_line(
    probabilities: np.ndarray,
    classes: Sequence[str],
    glyphs: Sequence[Glyph],
    context: Context = FREE,
    top_k: int = 3,
) -> LineReading:
    """A line's per-character probabilities [N, classes] (already restricted to the character
    set) and its glyphs → the decoded and the free reading, with one Prediction per glyph."""
    probabilities = np.asarray(probabilities, np.float32)
    require(
        probabilities.shape == (len(glyphs), len(classes)),
        f"expected probabilities [{len(glyphs)}, {len(classes)}], got {list(probabilities.shape)}",
    )
    scores = np.log(np.maximum(probabilities, FLOOR))
    words = _word_ranges([g.space_before for g in glyphs])
    free = scores.argmax(axis=1)
    chosen = np.concatenate(
        [_kind_path(scores[a:b], classes, context.switch_cost) for a, b in words] or [free]
    ).astype(np.int64)
    matched = None
    if context.pattern is not None:
        found = _pattern_path(scores, classes, words, context)
        matched = found is not None
        chosen = chosen if found is None else found
    if context.words:
        chosen = _listed_words(scores, classes, words, chosen, context)
    characters = tuple(
        _prediction(row, classes, int(label), glyph.image, glyph.box, top_k)
        for row, label, glyph in zip(probabilities, chosen, glyphs, strict=True)
    )
    return LineReading(
        _spell(chosen, classes, glyphs), characters, _spell(free, classes, glyphs), matched
    )


def prediction(
    row: np.ndarray, classes: Sequence[str], image: np.ndarray, top_k: int, box: Box | None = None
) -> Prediction:
    """One character's probabilities → its free prediction (the most likely class)."""
    return _prediction(row, classes, int(np.argmax(row)), image, box, top_k)


def read_words(lines: Iterable[str]) -> tuple[str, ...]:
    """A word list's lines → its words (a line may hold several, split at spaces), in order."""
    return tuple(dict.fromkeys(word for line in lines for word in line.split()))


def _prediction(
    row: np.ndarray,
    classes: Sequence[str],
    label: int,
    image: np.ndarray,
    box: Box | None,
    top_k: int,
) -> Prediction:
    best = np.argsort(row, kind="stable")[::-1][:top_k]
    alternatives = tuple((classes[i], float(row[i])) for i in best)
    return Prediction(classes[label], float(row[label]), alternatives, image, box)


def _word_ranges(spaces: Sequence[bool]) -> list[tuple[int, int]]:
    """[start, end) of each word: a space before a glyph starts a new word."""
    starts = [i for i, space in enumerate(spaces) if i == 0 or space]
    return list(zip(starts, [*starts[1:], len(spaces)], strict=True))


def _kind(name: str) -> str:
    return "digit" if name in DIGITS else "letter" if name.isalpha() else "other"


def _kinds(classes: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The kinds of the classes, and each class's index into that list."""
    names = sorted({_kind(c) for c in classes})
    return names, np.array([names.index(_kind(c)) for c in classes])


def _kind_path(scores: np.ndarray, classes: Sequence[str], switch_cost: float) -> np.ndarray:
    """The most likely classes of one word when each change of kind costs switch_cost
    (Viterbi over the kinds: the best class of a kind is the same whatever its neighbours)."""
    names, kind_of = _kinds(classes)
    best = np.full((len(scores), len(names)), -np.inf)
    label = np.zeros((len(scores), len(names)), np.int64)
    for k in range(len(names)):
        masked = np.where(kind_of == k, scores, -np.inf)
        label[:, k], best[:, k] = masked.argmax(axis=1), masked.max(axis=1)
    total, back = best[0].copy(), np.zeros((len(scores), len(names)), np.int64)
    switch = np.where(np.eye(len(names), dtype=bool), 0.0, switch_cost)
    for t in range(1, len(scores)):
        options = total[:, None] - switch
        back[t] = options.argmax(axis=0)
        total = options.max(axis=0) + best[t]
    path = [int(total.argmax())]
    for t in range(len(scores) - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return label[np.arange(len(scores)), path[::-1]]


def _pattern_path(
    scores: np.ndarray, classes: Sequence[str], words: list[tuple[int, int]], context: Context
) -> np.ndarray | None:
    """The most likely classes whose characters match the pattern in full (a beam search that
    drops every prefix the pattern cannot complete), or None when no reading matches."""
    pattern = regex.compile(context.pattern)
    _, kind_of = _kinds(classes)
    word_start = np.zeros(len(scores), bool)
    word_start[[a for a, _ in words]] = True
    beam: list[tuple[float, list[int]]] = [(0.0, [])]
    candidates = np.flatnonzero(scores.max(axis=0) > np.log(FLOOR))
    for t, row in enumerate(scores):
        grown = []
        for score, labels in beam:
            for c in candidates:
                switch = bool(labels) and not word_start[t] and kind_of[labels[-1]] != kind_of[c]
                text = "".join(classes[i] for i in labels) + classes[c]
                if pattern.fullmatch(text, partial=True):
                    grown.append((score + row[c] - context.switch_cost * switch, [*labels, c]))
        beam = sorted(grown, key=lambda item: -item[0])[:BEAM]
    full = [labels for _, labels in beam if pattern.fullmatch("".join(classes[i] for i in labels))]
    return np.array(full[0]) if full else None


def _listed_words(
    scores: np.ndarray,
    classes: Sequence[str],
    words: list[tuple[int, int]],
    chosen: np.ndarray,
    context: Context,
) -> np.ndarray:
    """`chosen` with each word replaced by the most likely listed word of its length, where that
    word explains the image within word_margin nats per character of the free reading (and the
    line still matches the pattern, if there is one)."""
    index = {name: i for i, name in enumerate(classes)}
    listed = [_as_classes(word, index) for word in context.words]
    chosen = chosen.copy()
    for a, b in words:
        candidates = [labels for labels in listed if labels is not None and len(labels) == b - a]
        if not candidates:
            continue
        fits = [float(scores[np.arange(a, b), labels].sum()) for labels in candidates]
        best = int(np.argmax(fits))
        if scores[a:b].max(axis=1).sum() - fits[best] > context.word_margin * (b - a):
            continue
        trial = chosen.copy()
        trial[a:b] = candidates[best]
        text = "".join(classes[i] for i in trial)
        if context.pattern is None or regex.fullmatch(context.pattern, text):
            chosen = trial
    return chosen


def _as_classes(word: str, index: dict[str, int]) -> list[int] | None:
    """A listed word as class indices (case folded to the model's where it lacks the word's
    case), or None when a character is not a class at all."""
    labels = []
    for char in word:
        name = char if char in index else char.upper() if char.upper() in index else char.lower()
        if name not in index:
            return None
        labels.append(index[name])
    return labels


def _spell(labels: np.ndarray, classes: Sequence[str], glyphs: Sequence[Glyph]) -> str:
    return "".join(
        (" " if glyph.space_before else "") + classes[int(label)]
        for label, glyph in zip(labels, glyphs, strict=True)
    )
