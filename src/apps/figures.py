"""Pictures, tables and charts the page shows next to a prediction, built without Streamlit."""

from __future__ import annotations

import altair as alt
import cv2
import numpy as np
import pandas as pd

from handrec.inference import Prediction

BOX_COLOUR = (230, 70, 40)
LABEL_COLOUR = (255, 255, 255)
LABEL_ROOM = 1.18


def enlarge(image: np.ndarray, factor: int = 6) -> np.ndarray:
    """A 28×28 model input, each pixel a `factor`-sized square: a browser would blur the
    upscaling, hiding exactly the pixels a user needs to see to understand a mistake."""
    return np.kron(image, np.ones((factor, factor), image.dtype))


def top_k_table(prediction: Prediction) -> pd.DataFrame:
    """The alternatives as rows (character, probability), most likely first."""
    return pd.DataFrame(
        {
            "character": [label for label, _ in prediction.top_k],
            "probability": [probability for _, probability in prediction.top_k],
        }
    )


def top_k_chart(prediction: Prediction) -> alt.LayerChart:
    """Horizontal bars of the alternatives on a fixed 0–100 % axis, labelled with their
    percentage: on an axis fitted to the data a 3 % guess would fill the chart. The axis runs on
    a little past 100 % to leave room for the label of a certain answer."""
    bars = (
        alt.Chart(top_k_table(prediction), height=alt.Step(30))
        .mark_bar()
        .encode(
            x=alt.X(
                "probability:Q",
                scale=alt.Scale(domain=[0, LABEL_ROOM]),
                axis=alt.Axis(format="%", title=None, values=[0, 0.25, 0.5, 0.75, 1]),
            ),
            y=alt.Y("character:N", sort=None, title=None, axis=alt.Axis(labelFontSize=16)),
        )
    )
    labels = bars.mark_text(align="left", dx=4).encode(text=alt.Text("probability:Q", format=".1%"))
    return bars + labels


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
