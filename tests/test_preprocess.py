"""Any image → MNIST-style 28×28: decoding, polarity, alpha, bit depth, size, and refusals."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from handrec.errors import HandrecError
from handrec.preprocess import (
    LINE_HEIGHT,
    THICK_STROKE,
    WORK_SIDE,
    ImageError,
    ImageTooLargeError,
    NoInkError,
    decode_image,
    prepare,
    reframe,
    stroke_width,
    thinned,
    working_copy,
)

PAPER, INK = 230, 20


def sheet(shape: tuple[int, int] = (120, 90), origin: tuple[int, int] = (18, 100)) -> np.ndarray:
    """A dark "7" on light paper, like a scan of a handwritten digit."""
    image = np.full(shape, PAPER, np.uint8)
    cv2.putText(image, "7", origin, cv2.FONT_HERSHEY_SIMPLEX, 3, INK, 8, cv2.LINE_AA)
    return image


def pen(thickness: int) -> np.ndarray:
    """A dark "4" about 320 px tall, drawn with a pen `thickness` px wide on a 400×400 sheet."""
    image = np.full((400, 400), PAPER, np.uint8)
    stroke = np.array([[250, 360], [250, 40], [80, 260], [320, 260]], np.int32)
    cv2.polylines(image, [stroke], False, INK, thickness, cv2.LINE_AA)
    return image


def encode(array: np.ndarray, fmt: str = "PNG", mode: str | None = None) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    image.save(buffer, fmt)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def mass_centre(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(image.shape)
    total = image.sum()
    return (rows * image).sum() / total, (cols * image).sum() / total


def ink_extent(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.nonzero(image > 32)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def assert_close(a: np.ndarray, b: np.ndarray, mean_tolerance: float = 6.0) -> None:
    assert np.abs(a.astype(int) - b.astype(int)).mean() < mean_tolerance


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return prepare(sheet())


def test_result_is_uint8_28x28_using_the_full_range(reference):
    assert reference.dtype == np.uint8
    assert reference.shape == (28, 28)
    assert reference.min() == 0
    assert reference.max() >= 250


def test_dark_ink_on_light_paper_becomes_white_ink_on_black(reference):
    assert reference[0].max() == 0
    assert reference[:, 0].max() == 0
    assert reference[10:18, 10:18].max() > 128


def test_centre_of_mass_lies_at_the_centre(reference):
    row, col = mass_centre(reference)
    assert abs(row - 13.5) < 0.5
    assert abs(col - 13.5) < 0.5


def test_longer_side_is_fitted_to_20_pixels_keeping_the_aspect():
    tall = np.zeros((300, 300), np.uint8)
    cv2.rectangle(tall, (140, 50), (160, 250), 255, -1)
    height, width = ink_extent(prepare(tall))
    assert 20 <= height <= 21
    assert 2 <= width <= 4


def test_light_ink_on_dark_paper_gives_the_same_result(reference):
    assert_close(prepare(255 - sheet()), reference, mean_tolerance=2)


def test_off_centre_character_is_centred_like_a_centred_one(reference):
    corner = sheet(shape=(400, 600), origin=(5, 95))
    assert_close(prepare(corner), reference)


def test_a_speck_of_dust_does_not_move_the_crop(reference):
    dusty = sheet(shape=(300, 300), origin=(100, 200))
    dusty[5:7, 290:292] = INK
    assert_close(prepare(dusty), reference)


def test_an_already_prepared_image_is_kept_nearly_as_it_is(reference):
    assert_close(prepare(reference), reference)


def test_reframe_gives_each_image_what_prepare_gives_it(reference):
    emnist_like = cv2.resize(reference[4:24, 4:24], (24, 24))  # a 24 px box, EMNIST's framing
    images = np.stack([np.pad(emnist_like, 2), reference])
    np.testing.assert_array_equal(reframe(images), [prepare(image) for image in images])


def test_reframe_keeps_an_image_without_ink_as_it_is():
    faint = np.full((1, 28, 28), 3, np.uint8)
    np.testing.assert_array_equal(reframe(faint), faint)


def test_a_shadow_across_the_paper_is_not_taken_for_ink(reference):
    light = np.linspace(0.4, 1.0, 90, dtype=np.float32)  # dimmer to the left, as in a photo
    shadowed = (sheet().astype(np.float32) * light).astype(np.uint8)
    assert_close(prepare(shadowed), reference)


def test_a_fine_pen_is_read_like_a_broad_one():
    fine, broad = prepare(pen(4)), prepare(pen(40))  # 0.25 px and 2.5 px wide in the 20 px box
    assert_close(fine, broad, mean_tolerance=3)


def test_a_broad_pen_keeps_its_width():
    broad, broader = prepare(pen(40)), prepare(pen(64))
    assert (broader > 64).sum() > 1.1 * (broad > 64).sum()


def test_stroke_width_of_a_bar_is_about_its_width():
    bar = np.zeros((300, 300), np.float32)
    bar[100:124, 20:280] = 1
    assert 21 <= stroke_width(bar) <= 24


def test_tiny_image_is_scaled_up():
    tiny = np.zeros((8, 6), np.uint8)
    tiny[1:7, 2:4] = 255
    result = prepare(tiny)
    assert ink_extent(result)[0] >= 19
    assert abs(mass_centre(result)[0] - 13.5) < 0.5


def test_huge_image_within_the_limit_is_read(reference):
    huge = cv2.resize(sheet(), (3000, 4000), interpolation=cv2.INTER_LINEAR)
    assert_close(prepare(decode_image(encode(huge))), reference)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF", "WEBP"])
@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_every_format_round_trips(reference, fmt, mode):
    assert_close(prepare(decode_image(encode(sheet(), fmt, mode))), reference)


def test_colour_image_is_read_by_its_luminance(reference):
    coloured = np.full((120, 90, 3), (250, 240, 200), np.uint8)
    coloured[sheet() < 128] = (20, 40, 160)
    assert_close(prepare(decode_image(encode(coloured))), reference)


def test_sixteen_bit_gray_png_is_read(reference):
    deep = sheet().astype(np.uint16) * 257
    data = encode(deep)
    assert Image.open(io.BytesIO(data)).mode.startswith("I;16")
    assert_close(prepare(decode_image(data)), reference)


def test_palette_png_is_read(reference):
    assert_close(prepare(decode_image(encode(sheet(), mode="P"))), reference)


def test_palette_png_with_a_transparent_paper_is_read(reference):
    image = Image.fromarray(np.where(sheet() < 128, 0, 1).astype(np.uint8), "P")
    image.putpalette([0, 0, 0, 255, 255, 255])
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=1)
    assert_close(prepare(decode_image(buffer.getvalue())), reference, mean_tolerance=10)


def test_dark_strokes_on_a_transparent_canvas_are_read(reference):
    # Drawing apps leave the canvas transparent black: only alpha tells ink from paper.
    rgba = np.zeros((120, 90, 4), np.uint8)
    rgba[..., 3] = 255 - sheet()
    assert_close(prepare(decode_image(encode(rgba))), reference)


def test_light_strokes_on_a_transparent_canvas_are_read(reference):
    rgba = np.full((120, 90, 4), 255, np.uint8)
    rgba[..., 3] = 255 - sheet()
    assert_close(prepare(decode_image(encode(rgba))), reference)


def test_gray_with_alpha_png_is_read(reference):
    gray_alpha = np.dstack([np.zeros((120, 90), np.uint8), 255 - sheet()])
    data = encode(gray_alpha)
    assert Image.open(io.BytesIO(data)).mode == "LA"
    assert_close(prepare(decode_image(data)), reference)


def test_opaque_rgba_is_read_like_rgb(reference):
    rgba = np.dstack([sheet()] * 3 + [np.full((120, 90), 255, np.uint8)])
    assert_close(prepare(rgba), reference, mean_tolerance=1)


def test_float_array_in_unit_range_is_read_like_uint8(reference):
    assert_close(prepare(sheet() / 255.0), reference, mean_tolerance=1)


def test_phone_photo_rotation_from_exif_is_applied():
    image = Image.fromarray(sheet())
    exif = image.getexif()
    exif[0x0112] = 3  # orientation: rotated 180°
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=95)
    upright = decode_image(buffer.getvalue())
    assert_close(upright, np.rot90(sheet(), 2))


def test_blank_image_is_nothing_to_read():
    with pytest.raises(NoInkError, match="nothing to read"):
        prepare(np.full((50, 50), 200, np.uint8))


def test_faint_noise_is_nothing_to_read():
    noise = np.random.default_rng(0).normal(200, 4, (80, 80)).clip(0, 255).astype(np.uint8)
    with pytest.raises(NoInkError, match="nothing to read"):
        prepare(noise)


def test_empty_file_is_refused():
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")


def test_garbage_bytes_are_refused():
    with pytest.raises(ImageError, match="cannot decode"):
        decode_image(b"this is not an image" * 10)


def test_truncated_file_is_refused():
    data = encode(sheet(shape=(400, 400)), "PNG")
    with pytest.raises(ImageError, match="cannot decode"):
        decode_image(data[: len(data) // 2])


def test_image_over_the_pixel_limit_is_refused():
    with pytest.raises(ImageTooLargeError, match="limit is 1,000"):
        decode_image(encode(sheet()), max_pixels=1_000)


def test_an_image_within_the_limit_but_past_pillows_own_warns_nobody(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 8_000)  # sheet() has 10,800 pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert decode_image(encode(sheet()), max_pixels=20_000).shape == (120, 90)


def test_pixel_limit_is_checked_from_the_header_before_decoding():
    # A PNG announcing 8,000 × 6,000 pixels with no pixel data behind it.
    header = struct.pack(">IIBBBBB", 8_000, 6_000, 8, 0, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", b"")
    with pytest.raises(ImageTooLargeError, match="8000×6000"):
        decode_image(data)


def test_errors_are_handrec_errors_with_one_line_messages():
    with pytest.raises(HandrecError) as caught:
        decode_image(b"\x89PNG\r\n\x1a\n broken")
    assert "\n" not in str(caught.value)


def test_reframe_leaves_opencv_threads_as_it_found_them(reference):
    threads = cv2.getNumThreads()
    reframe(reference[None])
    assert cv2.getNumThreads() == threads


def photo_of_a_line(top: int = 1400, left: int = 600) -> np.ndarray:
    """A 12-megapixel photo (4000×3000) of light paper with a 200 px high line of ink at
    (left, top): ten strokes 20 px wide, 100 px apart."""
    photo = np.full((3000, 4000), PAPER, np.uint8)
    for x in range(left, left + 1000, 100):
        photo[top : top + 200, x : x + 20] = INK
    return photo


def test_a_small_image_is_worked_on_whole_and_as_it_is():
    image = sheet()
    copy, scale, origin = working_copy(image)
    assert copy is image
    assert (scale, origin) == (1.0, (0, 0))


def test_a_big_photo_is_worked_on_only_around_its_line():
    copy, scale, origin = working_copy(photo_of_a_line())
    assert copy.size < 0.1 * 4000 * 3000 * scale**2
    assert origin[0] <= 600 and origin[1] <= 1400


def test_a_big_photos_line_is_shrunk_to_the_working_height():
    copy, _, _ = working_copy(photo_of_a_line())
    ink_rows = np.flatnonzero((copy < 128).any(axis=1))
    assert LINE_HEIGHT / 2 <= ink_rows[-1] - ink_rows[0] + 1 <= LINE_HEIGHT


def test_the_working_copy_maps_back_onto_the_photo():
    copy, scale, (x, y) = working_copy(photo_of_a_line(top=2500, left=2900))
    ink_rows = np.flatnonzero((copy < 128).any(axis=1))
    ink_cols = np.flatnonzero((copy < 128).any(axis=0))
    assert abs(ink_rows[0] / scale + y - 2500) <= 1 / scale
    assert abs(ink_cols[0] / scale + x - 2900) <= 1 / scale


def test_a_big_blank_photo_is_shrunk_whole_to_find_nothing_in():
    copy, _, origin = working_copy(np.full((3000, 4000), PAPER, np.uint8))
    assert max(copy.shape) == WORK_SIDE
    assert origin == (0, 0)


def test_thinned_narrows_wide_strokes_to_the_thick_limit():
    bar = np.zeros((28, 28), np.uint8)
    bar[4:24, 10:18] = 255
    assert stroke_width(bar > 64) > THICK_STROKE
    assert stroke_width(thinned(bar) > 64) <= THICK_STROKE


def test_thinned_leaves_strokes_within_the_limit_as_they_are():
    bar = np.zeros((28, 28), np.uint8)
    bar[4:24, 13:16] = 255
    assert np.array_equal(thinned(bar), bar)
