"""A line of characters → one 28×28 glyph per character, in order, with spaces found."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from handrec.errors import ConfigError
from handrec.preprocess import NoInkError, prepare
from handrec.segment import SegmentParams, segment_line

FACE, SCALE, THICKNESS = cv2.FONT_HERSHEY_SIMPLEX, 2.0, 4


def draw_line(text: str, letter_gap: int = 8, word_gap: int = 60) -> tuple[np.ndarray, list[int]]:
    """Dark characters on light paper, drawn one by one; returns the image and each one's x."""
    image = np.full((110, 60 + 70 * len(text)), 235, np.uint8)
    x, starts = 20, []
    for char in text:
        if char == " ":
            x += word_gap
            continue
        (width, _), _ = cv2.getTextSize(char, FACE, SCALE, THICKNESS)
        cv2.putText(image, char, (x, 80), FACE, SCALE, 15, THICKNESS, cv2.LINE_AA)
        starts.append(x)
        x += width + letter_gap
    return image, starts


def spelled(glyphs) -> str:
    """The line's layout with every character shown as x: "xxxxx xx"."""
    return "".join((" " if g.space_before else "") + "x" for g in glyphs)


def test_each_character_becomes_one_glyph():
    image, starts = draw_line("HELLO42")
    assert len(segment_line(image)) == len(starts)


def test_glyphs_come_left_to_right_where_they_were_drawn():
    image, starts = draw_line("HELLO42")
    boxes = [g.box for g in segment_line(image)]
    assert all(abs(box.x - start) <= 6 for box, start in zip(boxes, starts, strict=True))


def test_glyphs_are_prepared_28x28_images():
    glyph = segment_line(draw_line("A7")[0])[1]
    assert glyph.image.shape == (28, 28)
    assert glyph.image.dtype == np.uint8


def test_a_lone_character_is_prepared_exactly_as_by_prepare_with_the_same_ink_settings():
    image, _ = draw_line("7")
    glyph = segment_line(image, SegmentParams(faint=1.0))[0]
    assert np.array_equal(glyph.image, prepare(image))


def test_a_wide_gap_is_a_space():
    image, _ = draw_line("HELLO 42")
    assert spelled(segment_line(image)) == "xxxxx xx"


def test_an_evenly_spaced_word_has_no_spaces():
    image, _ = draw_line("ABCDEF")
    assert spelled(segment_line(image)) == "xxxxxx"


def test_loose_handwriting_keeps_letters_together_and_words_apart():
    image, _ = draw_line("HI THERE", letter_gap=25, word_gap=110)
    assert spelled(segment_line(image)) == "xx xxxxx"


def test_every_gap_can_be_a_space():
    image, _ = draw_line("A B C", word_gap=70)
    assert spelled(segment_line(image)) == "x x x"


def test_light_ink_on_dark_paper_is_segmented_too():
    image, _ = draw_line("HELLO 42")
    assert spelled(segment_line(255 - image)) == "xxxxx xx"


def test_characters_two_pixels_apart_stay_apart():
    image = np.full((60, 60), 235, np.uint8)
    image[10:50, 20:24] = 15
    image[10:50, 26:30] = 15
    assert len(segment_line(image)) == 2


def test_parts_of_one_character_are_merged():
    image, _ = draw_line("T1")
    image[44:48] = 235  # cut the bar of the T from its stem, and the 1 in two
    assert len(segment_line(image)) == 2


def test_boxes_are_in_the_input_image_pixels_when_it_is_shrunk_to_work_on():
    image, starts = draw_line("HELLO")
    big = cv2.resize(image, None, fx=6, fy=6, interpolation=cv2.INTER_LINEAR)
    boxes = [g.box for g in segment_line(big)]
    assert all(abs(box.x - 6 * start) <= 30 for box, start in zip(boxes, starts, strict=True))
    assert all(box.right <= big.shape[1] for box in boxes)


def test_blank_line_is_nothing_to_read():
    with pytest.raises(NoInkError):
        segment_line(np.full((100, 400), 235, np.uint8))


def test_space_limits_out_of_order_are_refused():
    with pytest.raises(ConfigError, match="space_gap"):
        SegmentParams(space_gap=2.0, space_max=1.0)
