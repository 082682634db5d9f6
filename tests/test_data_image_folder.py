"""The image-folder source: class folders, the app's preprocessing, unreadable files by flag."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from handrec import preprocess
from handrec.data.sources import load
from handrec.data.sources.image_folder import ImageFolderSource
from handrec.errors import ConfigError, DataError


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test prepares its data in its own cache, tmp_path/cache."""
    monkeypatch.setenv("HANDREC_CACHE", str(tmp_path / "cache"))


def scan(char: str) -> np.ndarray:
    """A dark character on light paper, like a photo of handwriting."""
    image = np.full((90, 70), 235, np.uint8)
    cv2.putText(image, char, (12, 70), cv2.FONT_HERSHEY_SIMPLEX, 2.2, 15, 6, cv2.LINE_AA)
    return image


def save(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def folder_of(root: Path, files: dict[str, str]) -> Path:
    """Images at the given relative paths, each showing the character given."""
    for name, char in files.items():
        save(root / name, scan(char))
    return root


def source(tmp_path: Path, root: Path, **settings) -> ImageFolderSource:
    return ImageFolderSource(path=str(root), **settings)


def test_class_folders_become_the_label_space(tmp_path: Path):
    root = folder_of(
        tmp_path / "img", {"B/1.png": "B", "A/1.png": "A", "A/2.png": "A", "7/x.png": "7"}
    )
    data = load(source(tmp_path, root))
    assert data.labels.classes == ("7", "A", "B")
    assert data.labels.names(data.y) == ["7", "A", "A", "B"]


def test_images_get_the_apps_preprocessing(tmp_path: Path):
    path = save(tmp_path / "img" / "A" / "1.png", scan("A"))
    data = load(source(tmp_path, tmp_path / "img"))
    expected = preprocess.prepare(preprocess.decode_image(path.read_bytes()))
    np.testing.assert_array_equal(data.x[0], expected)
    assert data.x.shape == (1, 28, 28) and data.x[0, 0].max() == 0 and data.x[0].max() > 200


def test_common_image_formats_are_read(tmp_path: Path):
    root = folder_of(tmp_path / "img", {"A/1.jpg": "A", "A/2.bmp": "A", "A/3.TIFF": "A"})
    assert len(load(source(tmp_path, root))) == 3


def test_other_files_hidden_entries_and_loose_images_are_ignored(tmp_path: Path):
    root = folder_of(tmp_path / "img", {"A/1.png": "A", ".trash/B/1.png": "B", "A/.x.png": "A"})
    (root / "A" / "notes.txt").write_text("not an image")
    save(root / "loose.png", scan("C"))
    data = load(source(tmp_path, root))
    assert data.labels.classes == ("A",) and len(data) == 1


def test_an_unreadable_image_fails_naming_the_file(tmp_path: Path):
    root = folder_of(tmp_path / "img", {"A/1.png": "A"})
    (root / "A" / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataError, match=r"A/broken.png: cannot decode image.*on_error=skip"):
        load(source(tmp_path, root))


def test_unreadable_images_are_skipped_and_counted_when_asked(tmp_path: Path, caplog):
    root = folder_of(tmp_path / "img", {"A/1.png": "A", "B/1.png": "B"})
    (root / "A" / "broken.png").write_bytes(b"junk")
    (root / "B" / "empty.jpg").write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        data = load(source(tmp_path, root, on_error="skip"))
    assert len(data) == 2 and "skipped 2 unreadable images" in caplog.text


def test_a_blank_image_counts_as_unreadable(tmp_path: Path):
    save(tmp_path / "img" / "A" / "blank.png", np.full((40, 40), 255, np.uint8))
    with pytest.raises(DataError, match="blank.png: nothing to read"):
        load(source(tmp_path, tmp_path / "img"))


def test_a_folder_without_images_is_refused(tmp_path: Path):
    (tmp_path / "img" / "A").mkdir(parents=True)
    with pytest.raises(DataError, match="img holds no images: put each image"):
        load(source(tmp_path, tmp_path / "img"))


def test_a_folder_whose_images_all_fail_is_refused_when_skipping(tmp_path: Path):
    (tmp_path / "img" / "A").mkdir(parents=True)
    (tmp_path / "img" / "A" / "x.png").write_bytes(b"junk")
    with pytest.raises(DataError, match="none of its 1 images could be read"):
        load(source(tmp_path, tmp_path / "img", on_error="skip"))


def test_a_missing_folder_is_refused(tmp_path: Path):
    with pytest.raises(DataError, match="nowhere is not a folder"):
        load(source(tmp_path, tmp_path / "nowhere"))


def test_an_added_image_rebuilds_the_cache(tmp_path: Path):
    root = folder_of(tmp_path / "img", {"A/1.png": "A"})
    load(source(tmp_path, root))
    save(root / "B" / "1.png", scan("B"))
    assert len(load(source(tmp_path, root))) == 2


def test_an_unknown_on_error_is_a_config_error():
    with pytest.raises(ConfigError, match="on_error must be fail|skip"):
        ImageFolderSource(on_error="ignore")
