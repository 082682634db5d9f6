"""The IDX reader shared by MNIST and EMNIST: round trip, and every malformed file refused."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from handrec.data.idx import locate, map_labels, read_idx, read_images_and_labels, write_idx
from handrec.errors import DataError

IMAGES = np.arange(3 * 28 * 28, dtype=np.uint32).reshape(3, 28, 28).astype(np.uint8)


@pytest.mark.parametrize("name", ["images-idx3-ubyte.gz", "images-idx3-ubyte"])
def test_an_idx_file_round_trips_gzipped_or_unpacked(tmp_path: Path, name: str):
    write_idx(tmp_path / name, IMAGES)
    np.testing.assert_array_equal(read_idx(tmp_path / name), IMAGES)


def test_gzip_is_told_by_the_content_not_the_name(tmp_path: Path):
    write_idx(tmp_path / "a.gz", IMAGES)
    (tmp_path / "a.gz").rename(tmp_path / "images-idx3-ubyte")
    np.testing.assert_array_equal(read_idx(tmp_path / "images-idx3-ubyte"), IMAGES)


def test_wider_types_are_read_big_endian(tmp_path: Path):
    values = np.array([1, 70000, -5], dtype=np.int32)
    path = tmp_path / "ints"
    write_idx(path, values)
    np.testing.assert_array_equal(read_idx(path), values)


def test_a_wrong_magic_number_is_refused_naming_the_file(tmp_path: Path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(b"\x12\x34\x08\x01" + bytes(8))
    with pytest.raises(DataError, match=r"labels-idx1-ubyte is not an IDX file.*0x12340801"):
        read_idx(path)


def test_data_shorter_than_the_header_promises_is_refused(tmp_path: Path):
    write_idx(tmp_path / "full", IMAGES)
    (tmp_path / "short").write_bytes((tmp_path / "full").read_bytes()[:-10])
    with pytest.raises(DataError, match=r"short: its header promises \[3, 28, 28\]"):
        read_idx(tmp_path / "short")


def test_data_longer_than_the_header_promises_is_refused(tmp_path: Path):
    write_idx(tmp_path / "full", IMAGES)
    (tmp_path / "long").write_bytes((tmp_path / "full").read_bytes() + b"\0")
    with pytest.raises(DataError, match="holds more bytes"):
        read_idx(tmp_path / "long")


def test_a_truncated_gzip_is_refused(tmp_path: Path):
    write_idx(tmp_path / "full.gz", IMAGES)
    (tmp_path / "cut.gz").write_bytes((tmp_path / "full.gz").read_bytes()[:-30])
    with pytest.raises(DataError, match="cut.gz is truncated or corrupt"):
        read_idx(tmp_path / "cut.gz")


def test_an_empty_file_is_refused(tmp_path: Path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(DataError, match="empty is empty"):
        read_idx(tmp_path / "empty")


def test_images_and_labels_of_different_lengths_are_refused(tmp_path: Path):
    write_idx(tmp_path / "images", IMAGES)
    write_idx(tmp_path / "labels", np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="holds 3 images but .*labels holds 2 labels"):
        read_images_and_labels(tmp_path / "images", tmp_path / "labels")


def test_a_labels_file_in_place_of_images_is_refused(tmp_path: Path):
    write_idx(tmp_path / "labels", np.zeros(3, np.uint8))
    with pytest.raises(DataError, match=r"labels: expected uint8 images \[N, 28, 28\]"):
        read_images_and_labels(tmp_path / "labels", tmp_path / "labels")


def test_locate_prefers_the_gz_and_names_it_when_missing(tmp_path: Path):
    (tmp_path / "x-idx1-ubyte.gz").write_bytes(gzip.compress(b""))
    assert locate(tmp_path, "x-idx1-ubyte").name == "x-idx1-ubyte.gz"
    with pytest.raises(DataError, match="y-idx1-ubyte.gz does not exist"):
        locate(tmp_path, "y-idx1-ubyte")


def test_a_label_the_mapping_lacks_names_its_record():
    table = np.array([-1, 0, 1])
    with pytest.raises(DataError, match="labels.gz: record 2 has label 7"):
        map_labels(np.array([1, 2, 7, 0]), table, "labels.gz")


def test_a_header_promising_an_impossible_size_is_refused(tmp_path: Path):
    path = tmp_path / "huge"
    path.write_bytes(b"\0\0\x08\x04" + b"\xff\xff\xff\xff" * 4)
    with pytest.raises(DataError, match="huge: its header promises"):
        read_idx(path)
