"""A saved model's files: where they are and whether they can be a model, checked without
TensorFlow, so that a mistyped path is refused before TensorFlow loads (seconds on 2 cores).

A model is stored as a directory holding `model.keras` (Keras' own format) and `classes.txt`
(one class name per line, in label order).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from handrec.errors import HandrecError
from handrec.labels import LabelSpace

MODEL_FILE = "model.keras"
CLASSES_FILE = "classes.txt"


class ModelError(HandrecError):
    """A model file is missing, unreadable, or does not match its class names."""


def model_file(path: str | Path) -> Path:
    """A model directory → its model.keras; a file as it is."""
    path = Path(path)
    return path / MODEL_FILE if path.is_dir() else path


def checked_model_file(path: str | Path) -> Path:
    """`model_file(path)`, or a one-line ModelError if it cannot be a Keras model file."""
    path = model_file(path)
    if not path.is_file():
        raise ModelError(f"model not found: {path}")
    if path.suffix != ".keras":
        raise ModelError(
            f"{path} is not a .keras file: save models with handrec.inference.save_model"
        )
    if not zipfile.is_zipfile(path):
        raise ModelError(f"cannot load model {path}: the file is corrupt (not a zip archive)")
    return path


def read_classes(path: Path) -> LabelSpace:
    """classes.txt (one class name per line, in label order) → the label space."""
    if not path.is_file():
        raise ModelError(
            f"class names not found: {path} should list one class per line; pass classes= instead"
        )
    names = [line.strip() for line in path.read_text().splitlines()]
    return LabelSpace.from_names([name for name in names if name])
