"""Labelled line images: a folder with `labels.tsv` (`file<TAB>text`, one line each), the files
beside it or in its `images/` folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from handrec.errors import DataError

LABELS_FILE = "labels.tsv"


@dataclass(frozen=True)
class LabelledLine:
    path: Path
    text: str


def load_lines(folder: Path) -> list[LabelledLine]:
    """The folder's labelled lines, in the order of labels.tsv; a one-line DataError naming the
    file and line for a missing file or a malformed row."""
    labels = folder / LABELS_FILE
    if not labels.is_file():
        raise DataError(f"{labels} not found: a line folder needs labels.tsv (file<TAB>text)")
    lines = []
    for number, row in enumerate(labels.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not row.strip():
            continue
        name, tab, text = row.partition("\t")
        if not tab or not name or not text.strip():
            raise DataError(f"{labels}:{number}: expected file<TAB>text, got {row!r}")
        lines.append(LabelledLine(_image_path(folder, name, labels, number), text.strip()))
    if not lines:
        raise DataError(f"{labels} lists no lines")
    return lines


def _image_path(folder: Path, name: str, labels: Path, number: int) -> Path:
    for candidate in (folder / name, folder / "images" / name):
        if candidate.is_file():
            return candidate
    raise DataError(f"{labels}:{number}: image {name} is neither in {folder} nor in its images/")
