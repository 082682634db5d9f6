"""The EMNIST source: official file layout, transposed storage, labels through the mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from handrec.data.idx import write_idx
from handrec.data.sources import load
from handrec.data.sources.emnist import EmnistSource, read_mapping
from handrec.errors import ConfigError, DataError
from handrec.labels import DIGITS, LOWERCASE, UPPERCASE
from handrec.preprocess import prepare

BYCLASS = [(i, ord(c)) for i, c in enumerate(DIGITS + UPPERCASE + LOWERCASE)]
BALANCED = [(i, ord(c)) for i, c in enumerate(DIGITS + UPPERCASE + "abdefghnqrt")]
LETTERS = [(i + 1, ord(c), ord(c.lower())) for i, c in enumerate(UPPERCASE)]


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test prepares its data in its own cache, tmp_path/cache."""
    monkeypatch.setenv("HANDREC_CACHE", str(tmp_path / "cache"))


def upright(n: int) -> np.ndarray:
    """Images with a bar in the top rows only, so a transposition would show."""
    x = np.zeros((n, 28, 28), np.uint8)
    x[:, :3, :] = 255
    x[:, 10, 10] = np.arange(n, dtype=np.uint8)
    return x


def write_split(
    folder: Path,
    split: str,
    mapping: list[tuple[int, ...]],
    labels: dict[str, list[int]],
) -> Path:
    """The official files of `split` for each part in `labels`, images stored transposed."""
    folder.mkdir(exist_ok=True)
    lines = "\n".join(" ".join(map(str, row)) for row in mapping)
    (folder / f"emnist-{split}-mapping.txt").write_text(lines + "\n")
    for part, raw in labels.items():
        stem = f"emnist-{split}-{part}"
        write_idx(folder / f"{stem}-images-idx3-ubyte.gz", upright(len(raw)).transpose(0, 2, 1))
        write_idx(folder / f"{stem}-labels-idx1-ubyte.gz", np.array(raw, np.uint8))
    return folder


def emnist(tmp_path: Path, folder: Path, **settings) -> EmnistSource:
    """A spec reading `folder`'s pixels as they are, unless `reframe=True` is given."""
    settings.setdefault("reframe", False)
    return EmnistSource(path=str(folder), **settings)


def test_images_stored_transposed_come_out_upright(tmp_path: Path):
    folder = write_split(tmp_path / "e", "byclass", BYCLASS, {"test": [0, 1, 2]})
    data = load(emnist(tmp_path, folder, part="test"))
    np.testing.assert_array_equal(data.x, upright(3))
    assert data.x.flags["C_CONTIGUOUS"]


def test_images_are_framed_as_the_predict_path_frames_its_input_by_default(tmp_path: Path):
    folder = write_split(tmp_path / "e", "byclass", BYCLASS, {"test": [0, 1]})
    data = load(EmnistSource(path=str(folder), part="test"))
    np.testing.assert_array_equal(data.x, [prepare(image) for image in upright(2)])


def test_reframed_and_as_stored_images_are_cached_apart(tmp_path: Path):
    folder = write_split(tmp_path / "e", "byclass", BYCLASS, {"test": [0, 1]})
    framed = load(emnist(tmp_path, folder, part="test", reframe=True))
    stored = load(emnist(tmp_path, folder, part="test"))
    np.testing.assert_array_equal(stored.x, upright(2))
    assert not np.array_equal(framed.x, stored.x)


def test_byclass_classes_are_named_by_the_mapping_file(tmp_path: Path):
    folder = write_split(tmp_path / "e", "byclass", BYCLASS, {"test": [0, 10, 36, 61]})
    data = load(emnist(tmp_path, folder, part="test"))
    assert "".join(data.labels.classes) == DIGITS + UPPERCASE + LOWERCASE
    assert data.labels.names(data.y) == ["0", "A", "a", "z"]


def test_balanced_merged_letters_keep_the_uppercase_name(tmp_path: Path):
    folder = write_split(tmp_path / "e", "balanced", BALANCED, {"test": [12, 36, 46]})
    data = load(emnist(tmp_path, folder, split="balanced", part="test"))
    assert len(data.labels) == 47 and "c" not in data.labels
    assert data.labels.names(data.y) == ["C", "a", "t"]


def test_letters_labels_1_to_26_with_both_cases_become_a_to_z(tmp_path: Path):
    folder = write_split(tmp_path / "e", "letters", LETTERS, {"test": [1, 26, 5]})
    data = load(emnist(tmp_path, folder, split="letters", part="test"))
    assert "".join(data.labels.classes) == UPPERCASE
    assert data.labels.names(data.y) == ["A", "Z", "E"]


def test_part_all_joins_train_then_test(tmp_path: Path):
    folder = write_split(tmp_path / "e", "digits", BYCLASS[:10], {"train": [1, 2], "test": [3]})
    data = load(emnist(tmp_path, folder, split="digits"))
    assert data.labels.names(data.y) == ["1", "2", "3"]


def test_part_test_needs_no_train_files(tmp_path: Path):
    folder = write_split(tmp_path / "e", "mnist", BYCLASS[:10], {"test": [4, 5]})
    assert len(load(emnist(tmp_path, folder, split="mnist", part="test"))) == 2


def test_a_missing_part_file_is_named(tmp_path: Path):
    folder = write_split(tmp_path / "e", "byclass", BYCLASS, {"test": [4]})
    with pytest.raises(DataError, match="emnist-byclass-train-images-idx3-ubyte.gz does not exist"):
        load(emnist(tmp_path, folder))


def test_a_missing_part_file_suggests_reading_only_the_parts_there(tmp_path: Path):
    folder = write_split(tmp_path / "e", "byclass", BYCLASS, {"test": [4]})
    with pytest.raises(DataError, match=r"data.sources.<key>.part=train\|test"):
        load(emnist(tmp_path, folder))


def test_a_missing_mapping_file_is_named(tmp_path: Path):
    (tmp_path / "e").mkdir()
    with pytest.raises(DataError, match="emnist-bymerge-mapping.txt does not exist"):
        load(emnist(tmp_path, tmp_path / "e", split="bymerge"))


def test_a_label_missing_from_the_mapping_names_its_record(tmp_path: Path):
    folder = write_split(tmp_path / "e", "digits", BYCLASS[:10], {"test": [1, 2, 12]})
    with pytest.raises(DataError, match="labels-idx1-ubyte.gz: record 2 has label 12"):
        load(emnist(tmp_path, folder, split="digits", part="test"))


def test_a_malformed_mapping_line_is_named(tmp_path: Path):
    (tmp_path / "map.txt").write_text("0 48\n1 x\n")
    with pytest.raises(DataError, match=r"map.txt: line 2 is '1 x', expected 'label ascii_code'"):
        read_mapping(tmp_path / "map.txt")


def test_images_and_labels_of_different_lengths_are_refused(tmp_path: Path):
    folder = write_split(tmp_path / "e", "digits", BYCLASS[:10], {"test": [1, 2]})
    write_idx(folder / "emnist-digits-test-labels-idx1-ubyte.gz", np.array([1], np.uint8))
    with pytest.raises(DataError, match="holds 2 images but .* holds 1 labels"):
        load(emnist(tmp_path, folder, split="digits", part="test"))


def test_an_unknown_split_is_a_config_error():
    with pytest.raises(ConfigError, match="split must be one of byclass"):
        EmnistSource(split="byfield")
