"""Pictures, tables and charts the page shows next to a prediction, built without Streamlit."""

from __future__ import annotations

import math
from dataclasses import replace

import altair as alt
import cv2
import numpy as np
import pandas as pd

from apps.reading import Character, Failure, Line, Result
from handrec.inference import Prediction
from handrec.segment import Box

BOX_COLOUR = (230, 70, 40)
LABEL_COLOUR = (255, 255, 255)
LABEL_ROOM = 1.18
UNSURE = 0.5
"""Below this probability an answer is called unsure."""
OVERLAY_HEIGHT = 180
"""A line's overlay is enlarged to at least this many pixels of height, so that a small scan's
boxes and labels can be read."""
OVERLAY_WIDTH = 1600
"""…and shrunk to at most this width, so that a 12-megapixel photo's labels are not specks."""
OVERLAY_MARGIN = 0.5
"""Paper kept around the ink, as a share of the characters' height: room for the labels."""


def enlarge(image: np.ndarray, factor: int = 6) -> np.ndarray:
    """A 28×28 model input, each pixel a `factor`-sized square: a browser would blur the
    upscaling, hiding exactly the pixels a user needs to see to understand a mistake."""
    return np.kron(image, np.ones((factor, factor), image.dtype))


def percent(probability: float) -> str:
    """A probability as the page writes it everywhere: one decimal, rounded down, so that a
    99.96 % answer never reads "100 %" next to bars that say otherwise."""
    return f"{math.floor(probability * 1000 + 1e-9) / 10:.1f}%"


def character_caption(character: Prediction) -> str:
    """A line's character as read in context with its probability, and what it reads as on
    its own where that differs."""
    caption = f"{character.label} · {percent(character.confidence)}"
    if character.free_label != character.label:
        caption += f" (alone: {character.free_label})"
    return caption


def summary_row(title: str, result: Result) -> dict[str, str]:
    """One input as a row of the results table: what was read, how sure, and any problem."""
    match result:
        case Character(prediction=prediction):
            note = "unsure" if prediction.confidence < UNSURE else ""
            note = "looks like a line" if result.maybe_line else note
            return {
                "image": title,
                "read": prediction.label,
                "sure": percent(prediction.confidence),
                "note": note,
            }
        case Line(reading=reading):
            weakest = min(c.confidence for c in reading.characters)
            note = "" if reading.free_text == reading.text else f"alone: {reading.free_text}"
            return {"image": title, "read": reading.text, "sure": percent(weakest), "note": note}
        case Failure(message=message):
            return {"image": title, "read": "", "sure": "", "note": message}


def summary_table(results: list[tuple[str, Result]]) -> pd.DataFrame:
    """The results table shown above many results: one row per input, in upload order; a
    line's "sure" is its least sure character's."""
    return pd.DataFrame([summary_row(title, result) for title, result in results])


def top_k_table(prediction: Prediction) -> pd.DataFrame:
    """The alternatives as rows (character, probability, its label), most likely first."""
    return pd.DataFrame(
        {
            "character": [label for label, _ in prediction.top_k],
            "probability": [probability for _, probability in prediction.top_k],
            "shown": [percent(probability) for _, probability in prediction.top_k],
        }
    )


def top_k_chart(prediction: Prediction) -> alt.LayerChart:
    """Horizontal bars of the alternatives on a fixed 0–100 % axis, labelled with their
    percentage: on an axis fitted to the data a 3 % guess would fill the chart. The bars are
    sorted by an explicit list: Streamlit reuses a chart's view for the next answer, and an
    ordinal axis left to the data's order keeps the previous answer's order. The axis runs on
    a little past 100 % to leave room for the label of a certain answer."""
    table = top_k_table(prediction)
    bars = (
        alt.Chart(table, height=alt.Step(30))
        .mark_bar()
        .encode(
            x=alt.X(
                "probability:Q",
                scale=alt.Scale(domain=[0, LABEL_ROOM]),
                axis=alt.Axis(format="%", title=None, values=[0, 0.25, 0.5, 0.75, 1]),
            ),
            y=alt.Y(
                "character:N",
                sort=list(table["character"]),
                title=None,
                axis=alt.Axis(labelFontSize=16),
            ),
            tooltip=[alt.Tooltip("character:N"), alt.Tooltip("shown:N", title="probability")],
        )
    )
    labels = bars.mark_text(align="left", dx=4).encode(text="shown:N")
    return bars + labels


def line_overlay(gray: np.ndarray, characters: tuple[Prediction, ...]) -> np.ndarray:
    """The line's ink in RGB, cropped to the characters with a margin of paper and scaled to a
    readable size, each character's box and label drawn on it."""
    boxes = [c.box for c in characters if c.box is not None]
    if not boxes:
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    crop = _around(boxes, gray.shape)
    part = gray[crop.y : crop.y + crop.height, crop.x : crop.right]
    scale = min(max(OVERLAY_HEIGHT / crop.height, 1.0), OVERLAY_WIDTH / crop.width)
    size = (max(1, round(crop.width * scale)), max(1, round(crop.height * scale)))
    shrinking = scale < 1
    scaled = cv2.resize(part, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    placed = tuple(c if c.box is None else _moved(c, c.box, crop, scale) for c in characters)
    return draw_boxes(scaled, placed)


def _around(boxes: list[Box], shape: tuple[int, ...]) -> Box:
    """The smallest box holding every box, widened by OVERLAY_MARGIN of their height and kept
    inside the image."""
    top, bottom = min(b.y for b in boxes), max(b.y + b.height for b in boxes)
    margin = max(2, round(OVERLAY_MARGIN * (bottom - top)))
    left = max(0, min(b.x for b in boxes) - margin)
    right = min(shape[1], max(b.right for b in boxes) + margin)
    top, bottom = max(0, top - margin), min(shape[0], bottom + margin)
    return Box(left, top, right - left, bottom - top)


def _moved(character: Prediction, box: Box, crop: Box, scale: float) -> Prediction:
    """The character with its box in the cropped, scaled picture's pixels."""
    x, y = round((box.x - crop.x) * scale), round((box.y - crop.y) * scale)
    moved = Box(x, y, max(1, round(box.width * scale)), max(1, round(box.height * scale)))
    return replace(character, box=moved)


def draw_boxes(gray: np.ndarray, characters: tuple[Prediction, ...]) -> np.ndarray:
    """The line's image in RGB with each character's box and predicted label drawn on it."""
    picture = cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    thickness = max(1, round(max(gray.shape) / 400))
    for character in characters:
        box = character.box
        if box is None:
            continue
        cv2.rectangle(
            picture, (box.x, box.y), (box.right, box.y + box.height), BOX_COLOUR, thickness
        )
        _label(picture, character.label, (box.x, box.y), scale=max(box.height / 60, 0.4))
    return picture


def _label(picture: np.ndarray, text: str, corner: tuple[int, int], scale: float) -> None:
    """`text` on a filled tag just above `corner` (inside the image when the box touches the
    top edge), so it stays readable on any background."""
    font, thickness = cv2.FONT_HERSHEY_SIMPLEX, max(1, round(scale * 2))
    (width, height), baseline = cv2.getTextSize(text, font, scale, thickness)
    x, top = corner[0], max(0, corner[1] - height - baseline - 2)
    cv2.rectangle(picture, (x, top), (x + width + 4, top + height + baseline + 2), BOX_COLOUR, -1)
    cv2.putText(
        picture, text, (x + 2, top + height + 1), font, scale, LABEL_COLOUR, thickness, cv2.LINE_AA
    )
