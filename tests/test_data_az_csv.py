"""The Kaggle A–Z CSV source: formats, headers, caching, and every malformed file refused."""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from handrec.data.sources import az_csv, load
from handrec.data.sources.az_csv import AzCsvSource
from handrec.errors import DataError

LABELS = np.array([0, 1, 25, 7, 7])
PIXELS = np.random.default_rng(0).integers(0, 256, (len(LABELS), 784)).astype(np.uint8)


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test prepares its data in its own cache, tmp_path/cache."""
    monkeypatch.setenv("HANDREC_CACHE", str(tmp_path / "cache"))


def csv_text(labels=LABELS, pixels=PIXELS, header: bool = False) -> str:
    rows = np.column_stack([labels, pixels])
    lines = [",".join(map(str, row)) for row in rows]
    if header:
        lines.insert(0, ",".join(["label", *(f"pixel{i}" for i in range(784))]))
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("A_Z Handwritten Data.csv", text)
    else:
        path.write_text(text)
    return path


def read(tmp_path: Path, path: Path):
    return load(AzCsvSource(path=str(path)))


def with_line(line_number: int, line: str) -> str:
    """The sample CSV with its line `line_number` (1-based) replaced."""
    lines = csv_text().splitlines()
    lines[line_number - 1] = line
    return "\n".join(lines) + "\n"


def test_a_csv_without_header_keeps_its_first_sample(tmp_path: Path):
    data = read(tmp_path, write(tmp_path / "az.csv", csv_text()))
    assert len(data) == len(LABELS)
    np.testing.assert_array_equal(data.x.reshape(len(LABELS), 784), PIXELS)


def test_labels_0_to_25_are_the_letters_a_to_z(tmp_path: Path):
    data = read(tmp_path, write(tmp_path / "az.csv", csv_text()))
    assert "".join(data.labels.classes) == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert data.labels.names(data.y) == ["A", "B", "Z", "H", "H"]


def test_a_header_row_is_recognised_and_skipped(tmp_path: Path):
    data = read(tmp_path, write(tmp_path / "az.csv", csv_text(header=True)))
    assert data.labels.names(data.y) == ["A", "B", "Z", "H", "H"]


def test_a_pandas_written_header_of_numbers_is_skipped(tmp_path: Path):
    mangled = ",".join(["0", *(f"0.{i}" for i in range(1, 785))])
    data = read(tmp_path, write(tmp_path / "az.csv", mangled + "\n" + csv_text()))
    assert len(data) == len(LABELS)


@pytest.mark.parametrize("name", ["az.csv.gz", "az.zip"])
def test_gzip_and_zip_read_like_the_plain_csv(tmp_path: Path, name: str):
    plain = read(tmp_path, write(tmp_path / "az.csv", csv_text()))
    assert read(tmp_path, write(tmp_path / name, csv_text())).fingerprint() == plain.fingerprint()


def test_windows_line_ends_and_a_missing_last_newline_are_fine(tmp_path: Path):
    text = csv_text().replace("\n", "\r\n").rstrip()
    assert len(read(tmp_path, write(tmp_path / "az.csv", text))) == len(LABELS)


def test_a_large_file_parsed_in_many_batches_keeps_every_row(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(az_csv, "PIECE_BYTES", 1 << 16)
    labels = np.arange(300) % 26
    pixels = np.random.default_rng(1).integers(0, 256, (300, 784)).astype(np.uint8)
    data = read(tmp_path, write(tmp_path / "az.csv", csv_text(labels, pixels)))
    np.testing.assert_array_equal(data.x.reshape(300, 784), pixels)
    np.testing.assert_array_equal(data.y, labels)


def test_an_unchanged_file_is_not_parsed_again(tmp_path: Path, monkeypatch):
    path = write(tmp_path / "az.csv", csv_text())
    first = read(tmp_path, path)
    monkeypatch.setattr(az_csv, "read_az_csv", lambda _: pytest.fail("parsed again"))
    assert read(tmp_path, path).fingerprint() == first.fingerprint()


def test_a_rewritten_file_is_parsed_again(tmp_path: Path):
    path = write(tmp_path / "az.csv", csv_text())
    read(tmp_path, path)
    write(path, csv_text(LABELS[:2], PIXELS[:2]))
    os.utime(path, ns=(1, 1))
    assert len(read(tmp_path, path)) == 2


def test_a_missing_file_says_where_to_get_it_and_what_to_set(tmp_path: Path):
    with pytest.raises(DataError) as error:
        read(tmp_path, tmp_path / "az.zip")
    message = str(error.value)
    assert "az-handwritten-alphabets-in-csv-format" in message
    assert "kaggle datasets download -d sachinpatel21/" in message
    assert "data.sources.<key>.path" in message and "\n" not in message


def test_an_empty_file_is_refused(tmp_path: Path):
    with pytest.raises(DataError, match="az.csv is empty"):
        read(tmp_path, write(tmp_path / "az.csv", ""))


def test_a_header_without_samples_is_refused(tmp_path: Path):
    header = csv_text(header=True).splitlines()[0] + "\n"
    with pytest.raises(DataError, match="az.csv holds no samples"):
        read(tmp_path, write(tmp_path / "az.csv", header))


def test_a_line_with_the_wrong_number_of_columns_is_named(tmp_path: Path):
    short = ",".join(["3"] * 784)
    with pytest.raises(DataError, match="az.csv: line 4 has 784 columns; expected 785"):
        read(tmp_path, write(tmp_path / "az.csv", with_line(4, short)))


def test_a_non_integer_cell_is_named_by_line_and_column(tmp_path: Path):
    line = ",".join(["3", "0", "0.5", *["0"] * 782])
    with pytest.raises(DataError, match="az.csv: line 2 column 3 is '0.5'"):
        read(tmp_path, write(tmp_path / "az.csv", with_line(2, line)))


@pytest.mark.parametrize("pixel", ["256", "-1"])
def test_a_pixel_outside_0_to_255_is_named(tmp_path: Path, pixel: str):
    line = ",".join(["3", *["0"] * 783, pixel])
    with pytest.raises(DataError, match=f"line 5 column 785 is '{pixel}'"):
        read(tmp_path, write(tmp_path / "az.csv", with_line(5, line)))


def test_a_label_outside_0_to_25_is_named(tmp_path: Path):
    line = ",".join(["26", *["0"] * 784])
    with pytest.raises(DataError, match="az.csv: line 3 has label 26, outside 0–25"):
        read(tmp_path, write(tmp_path / "az.csv", with_line(3, line)))


def test_a_bad_line_after_many_batches_is_named(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(az_csv, "PIECE_BYTES", 1 << 16)
    text = csv_text(np.zeros(200, int), np.zeros((200, 784), np.uint8), header=True)
    lines = text.splitlines()
    lines[150] = ",".join(["30", *["0"] * 784])
    with pytest.raises(DataError, match="line 151 has label 30"):
        read(tmp_path, write(tmp_path / "az.csv", "\n".join(lines)))


def test_a_truncated_gzip_is_refused(tmp_path: Path):
    path = write(tmp_path / "az.csv.gz", csv_text())
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(DataError, match="az.csv.gz cannot be read .*download it again"):
        read(tmp_path, path)


def test_a_zip_without_one_csv_inside_is_refused(tmp_path: Path):
    with zipfile.ZipFile(tmp_path / "az.zip", "w") as archive:
        archive.writestr("readme.txt", "no data")
    with pytest.raises(DataError, match=r"az.zip holds 0 .csv files"):
        read(tmp_path, tmp_path / "az.zip")


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path):
    (tmp_path / "az.zip").write_text(csv_text())
    with pytest.raises(DataError, match="az.zip cannot be read"):
        read(tmp_path, tmp_path / "az.zip")


def test_a_refused_file_leaves_nothing_in_the_cache(tmp_path: Path):
    with pytest.raises(DataError):
        read(tmp_path, write(tmp_path / "az.csv", with_line(3, "1,2")))
    assert not (tmp_path / "cache").exists()


def test_two_lines_whose_wrong_column_counts_add_up_are_still_named(tmp_path: Path):
    text = with_line(2, ",".join(["3"] * 784)).splitlines()
    text[3] = ",".join(["3"] * 786)
    with pytest.raises(DataError, match="az.csv: line 2 has 784 columns"):
        read(tmp_path, write(tmp_path / "az.csv", "\n".join(text)))


@pytest.mark.parametrize("cell", ["65541", "007", " 7"])
def test_a_cell_that_is_not_a_plain_integer_up_to_255_is_named(tmp_path: Path, cell: str):
    line = ",".join(["3", "0", cell, *["0"] * 782])
    with pytest.raises(DataError, match=f"az.csv: line 4 column 3 is '{cell}'"):
        read(tmp_path, write(tmp_path / "az.csv", with_line(4, line)))


def test_blank_lines_are_skipped(tmp_path: Path):
    text = csv_text().replace("\n", "\n\n", 2) + "\n\n"
    data = read(tmp_path, write(tmp_path / "az.csv", text))
    np.testing.assert_array_equal(data.x.reshape(len(LABELS), 784), PIXELS)


def test_blank_lines_count_in_the_line_number_of_an_error(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(az_csv, "PIECE_BYTES", 1 << 12)
    lines = csv_text().splitlines()
    lines[3] = ",".join(["27", *["0"] * 784])
    text = "\n\n".join(lines[:2]) + "\n" + "\n".join(lines[2:])
    with pytest.raises(DataError, match="az.csv: line 5 has label 27"):
        read(tmp_path, write(tmp_path / "az.csv", text))


def test_a_byte_order_mark_costs_no_sample(tmp_path: Path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text().encode())
    data = read(tmp_path, path)
    np.testing.assert_array_equal(data.y, LABELS)
    np.testing.assert_array_equal(data.x.reshape(len(LABELS), -1), PIXELS)


def test_a_file_of_blank_lines_holds_no_samples(tmp_path: Path):
    with pytest.raises(DataError, match="holds no samples"):
        read(tmp_path, write(tmp_path / "blank.csv", "\n\n\n"))


def test_a_gzip_of_binary_data_is_no_csv(tmp_path: Path):
    path = tmp_path / "random.csv.gz"
    path.write_bytes(gzip.compress(np.random.default_rng(1).bytes(5000)))
    with pytest.raises(DataError, match="line 1 is not text but binary data: it is no CSV"):
        read(tmp_path, path)
