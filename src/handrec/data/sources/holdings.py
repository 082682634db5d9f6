"""What a source's spec alone says about its data, before any of it is read: the class names it
can hold and the paths that must exist. Checks before a run starts use them, so that a typo
costs a second, not a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handrec.data.sources.az_csv import AzCsvSource
from handrec.data.sources.emnist import EmnistSource, read_mapping
from handrec.data.sources.image_folder import ImageFolderSource
from handrec.data.sources.mnist import MnistSource
from handrec.data.sources.sample import SampleSource
from handrec.errors import HandrecError
from handrec.labels import DIGITS, UPPERCASE


def held_classes(spec: Any) -> tuple[str, ...] | None:
    """The class names the source can hold; None where only reading it would tell (a missing
    mapping file, say: the loader then reports it)."""
    if isinstance(spec, SampleSource):
        return tuple(
            DIGITS * bool(spec.digits_per_class) + UPPERCASE * bool(spec.letters_per_class)
        )
    if isinstance(spec, MnistSource):
        return tuple(DIGITS)
    if isinstance(spec, AzCsvSource):
        return tuple(UPPERCASE)
    if isinstance(spec, EmnistSource):
        mapping = Path(spec.path).expanduser() / f"emnist-{spec.split}-mapping.txt"
        try:
            return read_mapping(mapping)[0].classes
        except (OSError, HandrecError):
            return None
    if isinstance(spec, ImageFolderSource):
        folder = Path(spec.path).expanduser()
        return (
            tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
            if folder.is_dir()
            else None
        )
    return None


def required_paths(spec: Any) -> list[Path]:
    """The files or folders the source reads, which must exist before it can load."""
    if isinstance(spec, AzCsvSource):
        return [Path(spec.path).expanduser()]
    if isinstance(spec, EmnistSource):
        return [Path(spec.path).expanduser() / f"emnist-{spec.split}-mapping.txt"]
    if isinstance(spec, MnistSource) and spec.path is not None:
        return [Path(spec.path).expanduser()]
    if isinstance(spec, ImageFolderSource):
        return [Path(spec.path).expanduser()]
    return []
