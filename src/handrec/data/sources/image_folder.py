"""Your own images: one sub-folder per class (the folder's name is the class name).

Every image goes through `handrec.preprocess` — the same decoding and MNIST-style framing the app
and the prediction CLI use — so a model trains on what it will see in use. The source's label
space is its class folders; classes outside the run's label space are dropped by the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handrec import preprocess
from handrec.data.cache import Plan, file_identity
from handrec.data.dataset import Dataset
from handrec.errors import DataError, HandrecError, require
from handrec.labels import LabelSpace

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
)
ON_ERROR = ("fail", "skip")


@dataclass
class ImageFolderSource:
    """path: the folder holding one sub-folder per class. on_error: what an unreadable or blank
    image does — fail (stop, naming the file) or skip (count it, log a warning).
    """

    path: str = "data/images"
    on_error: str = "fail"

    def __post_init__(self) -> None:
        require(
            self.on_error in ON_ERROR,
            f"source image_folder: on_error must be fail|skip, got {self.on_error!r}",
        )


def plan_image_folder(spec: ImageFolderSource, cache: Path) -> Plan:
    """Prepared 28×28 images, made again when a file, a setting or the preprocessing changes;
    files are keyed by their path in the folder, so a moved folder keeps its cache entry."""
    folder = Path(spec.path).expanduser()
    images = find_images(folder)
    inputs = [
        file_identity(Path(preprocess.__file__)),
        [[p.relative_to(folder).as_posix(), *file_identity(p)[1:]] for p in images],
    ]
    return Plan("image_folder", inputs, lambda: _read(folder, images, spec))


def find_images(folder: Path) -> list[Path]:
    """Image files (by suffix) in the class folders, sorted; hidden entries are ignored."""
    if not folder.is_dir():
        raise DataError(
            f"{folder} is not a folder: create it with one sub-folder per class "
            "(e.g. A/, B/) holding images, or set data.sources.<key>.path"
        )
    images = sorted(
        path
        for path in folder.glob("*/*")
        if path.suffix.lower() in IMAGE_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    if not images:
        raise DataError(
            f"{folder} holds no images: put each image ({', '.join(sorted(IMAGE_SUFFIXES))}) in "
            "the sub-folder named after its class, e.g. A/001.png"
        )
    return images


def _read(folder: Path, images: list[Path], spec: ImageFolderSource) -> Dataset:
    prepared: list[np.ndarray] = []
    names: list[str] = []
    failures: list[str] = []
    for path in images:
        try:
            prepared.append(preprocess.prepare(preprocess.decode_image(path.read_bytes())))
        except (HandrecError, OSError) as error:
            if spec.on_error == "fail":
                raise DataError(
                    f"{path}: {error} (fix or remove the file, or set on_error=skip)"
                ) from None
            failures.append(f"{path.relative_to(folder)}: {error}")
            continue
        names.append(path.parent.name)
    if failures:
        log.warning(
            "%s: skipped %d unreadable images (first: %s)", folder, len(failures), failures[0]
        )
    if not prepared:
        raise DataError(f"{folder}: none of its {len(images)} images could be read")
    classes, labels = np.unique(np.array(names), return_inverse=True)
    return Dataset(
        np.stack(prepared), labels.astype(np.int64), LabelSpace.from_names(classes.tolist())
    )
