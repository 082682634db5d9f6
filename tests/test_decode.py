"""Reading in context: per-character probabilities and a line's layout in, words out."""

from __future__ import annotations

import numpy as np
import pytest

from handrec.decode import (
    FREE,
    Context,
    charset_mask,
    decode_line,
    read_words,
    restrict,
)
from handrec.errors import ConfigError
from handrec.labels import DIGITS, UPPERCASE
from handrec.segment import Box, Glyph

CLASSES = tuple(DIGITS + UPPERCASE)


def rows(*characters: dict[str, float]) -> np.ndarray:
    """One probability row per character: the given classes, the rest shared out evenly."""
    table = np.zeros((len(characters), len(CLASSES)), np.float32)
    for row, given in zip(table, characters, strict=True):
        rest = (1 - sum(given.values())) / (len(CLASSES) - len(given))
        row[:] = rest
        for name, p in given.items():
            row[CLASSES.index(name)] = p
    return table


def sure(text: str) -> list[dict[str, float]]:
    """Characters the model is sure of."""
    return [{c: 0.97} for c in text]


def glyphs(layout: str) -> list[Glyph]:
    """One glyph per x of a layout such as "xxx xx" (a space before where the layout has one)."""
    out, space = [], False
    for char in layout:
        if char == " ":
            space = True
            continue
        out.append(Glyph(np.zeros((28, 28), np.uint8), Box(10 * len(out), 0, 8, 12), space))
        space = False
    return out


def read(characters: list[dict[str, float]], layout: str, context: Context | None = None):
    return decode_line(rows(*characters), CLASSES, glyphs(layout), context or Context())


O_OR_ZERO = {"0": 0.6, "O": 0.38}
S_OR_FIVE = {"5": 0.55, "S": 0.43}


def test_a_look_alike_inside_a_word_of_letters_is_read_as_a_letter():
    reading = read([*sure("R"), O_OR_ZERO, *sure("SE")], "xxxx")
    assert reading.text == "ROSE"


def test_the_free_reading_keeps_each_characters_own_best():
    reading = read([*sure("R"), O_OR_ZERO, *sure("SE")], "xxxx")
    assert reading.free_text == "R0SE"


def test_a_look_alike_inside_a_number_is_read_as_a_digit():
    reading = read([*sure("1"), {"O": 0.6, "0": 0.38}, *sure("7")], "xxx")
    assert reading.text == "107"


def test_several_look_alikes_in_a_word_follow_the_word_not_each_other():
    reading = read([S_OR_FIVE, O_OR_ZERO, *sure("PHIE")], "xxxxxx")
    assert reading.text == "SOPHIE"


def test_each_word_takes_its_own_kind():
    reading = read([*sure("R"), O_OR_ZERO, *sure("SE"), *sure("2"), O_OR_ZERO], "xxxx xx")
    assert reading.text == "ROSE 20"


def test_a_word_the_model_is_sure_is_mixed_stays_mixed():
    reading = read(sure("A12B"), "xxxx")
    assert reading.text == "A12B"


def test_without_a_switch_cost_every_character_is_read_on_its_own():
    reading = read([*sure("R"), O_OR_ZERO, *sure("SE")], "xxxx", FREE)
    assert reading.text == reading.free_text == "R0SE"


def test_a_higher_switch_cost_overrides_more_doubt():
    doubtful = [*sure("AB"), {"0": 0.9, "O": 0.08}]
    assert read(doubtful, "xxx", Context(switch_cost=1.0)).text == "AB0"
    assert read(doubtful, "xxx", Context(switch_cost=4.0)).text == "ABO"


def test_each_character_reports_the_decoded_label_its_probability_and_the_free_label():
    character = read([*sure("R"), O_OR_ZERO, *sure("SE")], "xxxx").characters[1]
    assert (character.label, character.free_label) == ("O", "0")
    assert character.confidence == pytest.approx(0.38)


def test_each_character_keeps_its_box():
    reading = read(sure("AB"), "xx")
    assert [c.box.x for c in reading.characters] == [0, 10]


def test_a_pattern_picks_the_most_likely_reading_that_matches_it():
    reading = read(
        [*sure("06"), {"S": 0.6, "5": 0.38}, *sure("12")], "xxxxx", Context(pattern="[0-9]{5}")
    )
    assert reading.text == "06512"
    assert reading.pattern_matched is True


def test_a_pattern_is_matched_with_the_spaces_left_out():
    reading = read([*sure("06"), O_OR_ZERO, *sure("1")], "xx xx", Context(pattern="[0-9]{4}"))
    assert reading.text == "06 01"


def test_a_pattern_can_force_letters_where_digits_look_likelier():
    reading = read([{"5": 0.7, "S": 0.28}], "x", Context(pattern="[A-Z]"))
    assert reading.text == "S"


def test_a_pattern_no_reading_can_match_is_reported_and_the_context_reading_kept():
    reading = read(sure("123"), "xxx", Context(pattern="[0-9]{10}"))
    assert reading.pattern_matched is False
    assert reading.text == "123"


def test_without_a_pattern_nothing_is_said_about_matching():
    assert read(sure("123"), "xxx").pattern_matched is None


def test_a_bad_pattern_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match="not a regular expression"):
        Context(pattern="[0-9")


def test_a_listed_word_close_to_the_free_reading_replaces_it():
    misread = [*sure("KE"), {"V": 0.6, "U": 0.35}, *sure("IN")]
    reading = read(misread, "xxxxx", Context(words=("KEUIN", "MARIE")))
    assert reading.text == "KEUIN"


def test_a_listed_word_the_image_contradicts_is_not_taken():
    reading = read(sure("KEVIN"), "xxxxx", Context(words=("KARIN",)))
    assert reading.text == "KEVIN"


def test_listed_words_are_matched_per_word_of_the_line():
    misread = [*sure("LE"), *sure("CA"), {"H": 0.6, "M": 0.35}]
    reading = read(misread, "xx xxx", Context(words=("CAM",)))
    assert reading.text == "LE CAM"


def test_listed_words_in_lower_case_match_a_model_of_capitals():
    misread = [{"0": 0.6, "O": 0.3}, *sure("SCAR")]
    assert read(misread, "xxxxx", Context(words=("oscar",))).text == "OSCAR"


def test_a_word_list_file_gives_its_words_once_each_in_order():
    assert read_words(["KEVIN", "LE CAM", "", "KEVIN"]) == ("KEVIN", "LE", "CAM")


def test_letters_charset_allows_letters_only():
    mask = charset_mask(CLASSES, "letters")
    assert [c for c, ok in zip(CLASSES, mask, strict=True) if ok] == list(UPPERCASE)


def test_digits_charset_allows_digits_only():
    mask = charset_mask(CLASSES, "digits")
    assert [c for c, ok in zip(CLASSES, mask, strict=True) if ok] == list(DIGITS)


def test_an_explicit_charset_allows_exactly_its_characters():
    mask = charset_mask(CLASSES, "0123456789X")
    assert [c for c, ok in zip(CLASSES, mask, strict=True) if ok] == [*DIGITS, "X"]


def test_a_charset_with_characters_the_model_lacks_is_refused():
    with pytest.raises(ConfigError, match="does not know"):
        charset_mask(CLASSES, "abc")


def test_a_charset_that_allows_none_of_the_classes_is_refused():
    with pytest.raises(ConfigError, match="allows none"):
        charset_mask(tuple(DIGITS), "letters")


def test_restricting_renormalises_over_the_allowed_classes():
    restricted = restrict(rows(O_OR_ZERO), charset_mask(CLASSES, "letters"))
    assert restricted[0].sum() == pytest.approx(1.0)
    assert restricted[0, CLASSES.index("0")] == 0
    assert restricted[0].argmax() == CLASSES.index("O")


def test_probabilities_that_do_not_match_the_glyphs_are_refused():
    with pytest.raises(ConfigError, match="expected probabilities"):
        decode_line(rows(*sure("AB")), CLASSES, glyphs("xxx"))


def test_an_empty_charset_is_refused():
    with pytest.raises(ConfigError, match="charset is empty"):
        charset_mask(CLASSES, "")
