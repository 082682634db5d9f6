"""A line of characters → one 28×28 glyph per character, in order, with spaces found."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from handrec.errors import ConfigError
from handrec.preprocess import THICK_STROKE, NoInkError, prepare, stroke_width
from handrec.segment import SegmentParams, segment_line

FACE, SCALE, THICKNESS = cv2.FONT_HERSHEY_SIMPLEX, 2.0, 4


def draw_line(
    text: str, letter_gap: int = 8, word_gap: int = 60, ink: int = 15
) -> tuple[np.ndarray, list[int]]:
    """Dark characters on light paper, drawn one by one; returns the image and each one's x."""
    widths = [cv2.getTextSize(c, FACE, SCALE, THICKNESS)[0][0] for c in text]
    image = np.full(
        (110, 40 + sum(widths) + letter_gap * len(text) + word_gap * text.count(" ")), 235, np.uint8
    )
    x, starts = 20, []
    for char, width in zip(text, widths, strict=True):
        if char == " ":
            x += word_gap
            continue
        cv2.putText(image, char, (x, 80), FACE, SCALE, ink, THICKNESS, cv2.LINE_AA)
        starts.append(x)
        x += width + letter_gap
    return image, starts


def photographed(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A drawn line as a phone photo: bigger margins, light falling to 55% across, noise, and
    a dark table beyond the page's slightly tilted lower edge."""
    paper = np.pad(image, ((60, 120), (80, 80)), constant_values=235).astype(np.float32)
    rows, cols = np.indices(paper.shape)
    paper *= 1 - 0.45 * cols / paper.shape[1]
    edge = paper.shape[0] - 50 + 0.03 * (cols - paper.shape[1] / 2)
    photo = np.where(rows > edge, 70.0, paper) + rng.normal(0, 4, paper.shape)
    return np.clip(photo, 0, 255).astype(np.uint8)


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


def test_a_photo_with_shadow_and_the_page_edge_in_view_reads_each_character():
    image, _ = draw_line("06 12 34")
    photo = photographed(image, np.random.default_rng(0))
    assert spelled(segment_line(photo)) == "xx xx xx"


def test_the_table_beyond_the_page_edge_is_no_character():
    image, _ = draw_line("42")
    photo = photographed(image, np.random.default_rng(1))
    assert all(g.box.bottom < photo.shape[0] - 60 for g in segment_line(photo))


def test_characters_on_ruled_paper_are_read_without_the_rules():
    image, _ = draw_line("HELLO 42")
    image[::40] = np.minimum(image[::40], 150)
    image[81:83] = np.minimum(image[81:83], 150)  # a rule under the characters, touching them
    assert spelled(segment_line(image)) == "xxxxx xx"


def test_specks_around_the_line_are_dropped():
    image, _ = draw_line("HELLO")
    rng = np.random.default_rng(0)
    for y, x in zip(rng.integers(0, 110, 30), rng.integers(0, image.shape[1], 30), strict=True):
        image[y : y + 2, x : x + 2] = 15
    assert spelled(segment_line(image)) == "xxxxx"


def test_the_dot_of_an_i_is_no_character_of_its_own():
    image, starts = draw_line("HIM")
    cv2.circle(image, (starts[1] + 6, 28), 3, 15, -1)
    glyphs = segment_line(image)
    assert spelled(glyphs) == "xxx"
    assert glyphs[1].box.y > 28


def short_stem(top: int) -> np.ndarray:
    """ "HIH" (characters 40 px high, rows 40-79) with the I redrawn as a 6 px stem from `top`
    down to the line's foot."""
    image, _ = draw_line("HIH")
    image[:, 74:88] = 235
    image[top:80, 78:84] = 15
    return image


def test_a_dot_drawn_just_above_a_stem_is_no_part_of_it():
    image = short_stem(top=58)
    cv2.circle(image, (80, 49), 7, 15, -1)  # inside the line's band, clear of the stem
    glyphs = segment_line(image)
    assert spelled(glyphs) == "xxx"
    assert glyphs[1].box.y >= 57


def test_a_dot_drawn_onto_a_stems_top_is_no_part_of_it():
    image = short_stem(top=56)
    cv2.circle(image, (80, 50), 7, 15, -1)  # touching the stem: one blob
    glyphs = segment_line(image)
    assert spelled(glyphs) == "xxx"
    assert glyphs[1].box.y >= 55


def test_a_hairline_stem_with_a_wider_tip_stays_whole_without_warnings():
    image = short_stem(top=80)
    image[40:80, 80] = 15
    image[40, 81] = 15  # one row two pixels wide: no dot
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        glyphs = segment_line(image, SegmentParams(faint=1.0))
    assert spelled(glyphs) == "xxx"
    assert glyphs[1].box.y == 40


def test_the_bowl_of_a_narrow_p_stays_part_of_it():
    image = short_stem(top=40)
    cv2.ellipse(image, (86, 47), (7, 7), 0, 0, 360, 15, -1)  # a bowl beside the stem's top
    glyphs = segment_line(image)
    assert spelled(glyphs) == "xxx"
    assert glyphs[1].box.y <= 41


def test_the_open_arms_of_a_narrow_y_stay_part_of_it():
    image, _ = draw_line("HIH")
    image[:, 74:88] = 235
    for arm in (74, 86):
        cv2.line(image, (arm, 40), (80, 56), 15, 3)
    cv2.line(image, (80, 56), (80, 79), 15, 3)
    glyphs = segment_line(image)
    assert spelled(glyphs) == "xxx"
    assert glyphs[1].box.y <= 41


def test_a_short_bar_drawn_apart_above_a_stem_stays_part_of_it():
    image = short_stem(top=58)
    image[50:54, 75:88] = 15  # flat, not round: the top of an I or a T
    glyphs = segment_line(image)
    assert spelled(glyphs) == "xxx"
    assert glyphs[1].box.y <= 51


def test_a_character_far_shorter_than_the_line_keeps_thin_strokes():
    glyph = segment_line(short_stem(top=64))[1]
    assert stroke_width(glyph.image > 64) <= THICK_STROKE


def test_a_character_drawn_as_separate_strokes_is_one_character():
    image, starts = draw_line("AHA")
    stem = starts[1] + 8  # just right of the H's left stem: cut its bar off it
    image[:, stem : stem + 3] = 235
    assert spelled(segment_line(image)) == "xxx"


def placed(text: str, gaps: list[int]) -> np.ndarray:
    """Characters set by their ink, gaps[i] px between the ink of the i-th and the next
    (negative: their strokes overlap), whatever the OpenCV version's glyph metrics."""
    line = np.full((110, 20), 235, np.uint8)
    for char, gap in zip(text, [0, *gaps], strict=True):
        glyph, _ = draw_line(char)
        ink = np.flatnonzero((glyph < 128).any(axis=0))
        glyph = glyph[:, ink[0] : ink[-1] + 1]
        joined = np.full((110, line.shape[1] + gap + glyph.shape[1]), 235, np.uint8)
        joined[:, : line.shape[1]] = line
        tail = joined[:, -glyph.shape[1] :]
        joined[:, -glyph.shape[1] :] = np.minimum(tail, glyph)
        line = joined
    return np.pad(line, ((0, 0), (0, 20)), constant_values=235)


def touching(text: str, overlap: int = 3) -> np.ndarray:
    """Characters whose strokes overlap by `overlap` columns."""
    return placed(text, [-overlap] * (len(text) - 1))


def test_touching_characters_are_cut_apart():
    image = touching("0000")
    count, _ = cv2.connectedComponents((image < 128).astype(np.uint8))
    assert count - 1 == 1  # drawn as one blob
    assert spelled(segment_line(image)) == "xxxx"


def test_a_wide_loop_is_not_cut_open():
    image = np.pad(draw_line("HIH")[0], ((0, 0), (0, 120)), constant_values=235)
    cv2.ellipse(image, (220, 60), (45, 20), 0, 0, 360, 15, 5)  # an O twice as wide as high
    glyphs = segment_line(image)
    assert spelled(glyphs) == "xxxx"
    assert glyphs[3].box.width >= 90


def test_a_thick_loop_is_not_cut_beside_its_hole():
    image = np.pad(draw_line("HIH")[0], ((0, 0), (0, 160)), constant_values=235)
    cv2.ellipse(image, (240, 60), (50, 14), 0, 0, 360, 15, 20)  # an O of heavy strokes
    assert spelled(segment_line(image)) == "xxxx"


def test_a_cut_leaves_no_piece_flatter_than_a_character():
    image = np.pad(draw_line("HIH")[0], ((0, 0), (0, 120)), constant_values=235)
    image[40:80, 175:181] = 15
    image[74:80, 175:275] = 15  # an L with a foot far longer than a character is wide
    glyphs = segment_line(image)
    assert spelled(glyphs) == "xxxx"
    assert glyphs[3].box.width >= 95


def test_a_bar_drawn_apart_from_its_character_joins_it():
    image = np.pad(draw_line("HIH")[0], ((0, 0), (0, 60)), constant_values=235)
    image[40:45, 139:179] = 15  # the last H's top bar run on, 2 px clear of it: an E's or a 5's
    glyphs = segment_line(image)
    assert spelled(glyphs) == "xxx"
    assert glyphs[2].box.right >= 178


def test_a_dash_set_apart_is_no_character():
    image, _ = draw_line("HI HI", word_gap=100)
    image[58:63, 120:150] = 15  # a hyphen in the middle of the word gap
    assert spelled(segment_line(image)) == "xx xx"


def test_a_widened_letter_gap_is_no_space_beside_a_word_gap():
    image = placed("HELLOWORLD", [4, 4, 30, 4, 95, 4, 4, 4, 4])  # the two Ls set a little apart
    assert spelled(segment_line(image)) == "xxxxx xxxxx"


def test_widely_spaced_capitals_stay_one_word():
    image, _ = draw_line("ABCDEF", letter_gap=55)
    assert spelled(segment_line(image)) == "xxxxxx"


def test_widely_spaced_words_are_split_where_the_gap_is_wider_than_the_letters():
    image, _ = draw_line("AB CDE", letter_gap=55, word_gap=150)
    assert spelled(segment_line(image)) == "xx xxx"


def test_a_faint_stroke_that_touches_ink_stays_part_of_its_character():
    image, starts = draw_line("T")
    image[50:90] = np.where(image[50:90] < 128, 170, image[50:90])  # the stem's lower half faint
    glyph = segment_line(image)[0]
    assert glyph.box.bottom >= 80


def test_a_small_low_resolution_scan_is_read():
    image = np.full((40, 300), 245, np.uint8)
    cv2.putText(image, "HELLO", (10, 30), FACE, 0.9, 30, 1, cv2.LINE_AA)
    cv2.putText(image, "42", (120, 30), FACE, 0.9, 30, 1, cv2.LINE_AA)
    assert spelled(segment_line(image)) == "xxxxx xx"


def test_a_12_megapixel_photo_is_read():
    image, _ = draw_line("HELLO 42")
    line = cv2.resize(image, None, fx=5, fy=5, interpolation=cv2.INTER_LINEAR)
    photo = np.full((3000, 4000), 235, np.uint8)
    photo[1200 : 1200 + line.shape[0], 400 : 400 + line.shape[1]] = line
    assert spelled(segment_line(photo)) == "xxxxx xx"


def test_boxes_in_a_12_megapixel_photo_are_in_the_photos_pixels():
    image, starts = draw_line("HELLO")
    line = cv2.resize(image, None, fx=5, fy=5, interpolation=cv2.INTER_LINEAR)
    photo = np.full((3000, 4000), 235, np.uint8)
    photo[2200 : 2200 + line.shape[0], 2500 : 2500 + line.shape[1]] = line
    boxes = [g.box for g in segment_line(photo)]
    assert all(
        abs(box.x - 2500 - 5 * start) <= 30 for box, start in zip(boxes, starts, strict=True)
    )
    assert all(box.y >= 2200 and box.bottom <= 2200 + line.shape[0] for box in boxes)


def test_a_12_megapixel_photo_with_the_table_in_view_is_read():
    image, _ = draw_line("HELLO 42")
    line = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)
    photo = np.full((3000, 4000), 235, np.uint8)
    photo[1200 : 1200 + line.shape[0], 400 : 400 + line.shape[1]] = line
    photo[2600:] = 70  # beyond the page's edge
    assert spelled(segment_line(photo)) == "xxxxx xx"


def test_a_smudge_set_apart_at_the_end_of_the_line_is_no_character():
    image, _ = draw_line("HELLO")
    image = np.pad(image, ((0, 0), (0, 200)), constant_values=235)
    image[60:72, -60:-50] = 15
    assert spelled(segment_line(image)) == "xxxxx"


def test_the_bar_of_a_big_lone_t_is_no_ruled_line():
    image = np.full((100, 100), 235, np.uint8)
    image[10:18, 5:95] = 15
    image[10:95, 45:55] = 15
    assert segment_line(image)[0].box.width >= 85


def test_ruled_lines_across_a_whole_photo_are_dropped():
    image, _ = draw_line("HELLO 42")
    photo = np.pad(image, ((300, 300), (0, 0)), constant_values=235)
    photo[::45] = np.minimum(photo[::45], 150)
    assert spelled(segment_line(photo)) == "xxxxx xx"


def test_a_line_that_is_nothing_but_a_rule_is_still_segmented():
    image = np.full((60, 400), 235, np.uint8)
    image[30:33, 10:390] = 15
    assert len(segment_line(image)) == 1
