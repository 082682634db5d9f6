"""MNIST digits: Keras' mnist.npz (downloaded once), a local mnist.npz, or the four IDX files.

The official split (60,000 train, 10,000 test) can be kept apart with `part`; with `part: all`
both parts join, train first, and the run makes its own stratified split.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

import numpy as np

from handrec.data.cache import Plan, file_identity
from handrec.data.dataset import Dataset
from handrec.data.idx import (
    check_images_and_labels,
    check_part,
    locate,
    map_labels,
    official_parts,
    read_images_and_labels,
)
from handrec.errors import DataError
from handrec.labels import DIGITS, LabelSpace

log = logging.getLogger(__name__)

KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
IDX_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
DOWNLOAD_TIMEOUT_S = 60


@dataclass
class MnistSource:
    """Where MNIST comes from and which official part to use.

    path: a mnist.npz, or a folder with the four official IDX files (.gz or unpacked); None →
    download `url` into the cache directory once (checked against `sha256` unless that is None).
    part: all | train | test.
    """

    path: str | None = None
    part: str = "all"
    url: str = KERAS_URL
    sha256: str | None = KERAS_SHA256

    def __post_init__(self) -> None:
        check_part(self.part, "mnist")


def plan_mnist(spec: MnistSource, cache: Path) -> Plan:
    """Digits in the label space "0…9", read again when the files change; a download goes into
    the `cache` folder."""
    files = _files(spec, cache)
    return Plan("mnist", [file_identity(f) for f in files], lambda: _read(files, spec.part))


def _files(spec: MnistSource, cache: Path) -> list[Path]:
    """The npz file, or the (images, labels) IDX files of each chosen part."""
    if spec.path is None:
        return [_download(spec, cache)]
    path = Path(spec.path).expanduser()
    if path.is_dir():
        return [locate(path, stem) for p in official_parts(spec.part) for stem in IDX_STEMS[p]]
    if path.is_file():
        return [path]
    raise DataError(
        f"{path} does not exist: set data.sources.<key>.path to a mnist.npz or a folder with the "
        "four MNIST IDX files, or to null to download mnist.npz"
    )


def _read(files: list[Path], part: str) -> Dataset:
    if len(files) == 1:
        x, y = _read_npz(files[0], part)
        where = str(files[0])
    else:
        pairs = [read_images_and_labels(*files[i : i + 2]) for i in range(0, len(files), 2)]
        x, y = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
        where = ", ".join(map(str, files[1::2]))
    return Dataset(x, map_labels(y, np.arange(len(DIGITS)), where), LabelSpace.from_names(DIGITS))


def _read_npz(path: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """Keras' layout: x_train, y_train, x_test, y_test."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            wanted = [f"{a}_{p}" for p in official_parts(part) for a in "xy"]
            missing = [name for name in wanted if name not in npz.files]
            if missing:
                raise DataError(f"{path} lacks the arrays {missing}: is it Keras' mnist.npz?")
            pairs = [(npz[f"x_{p}"], npz[f"y_{p}"]) for p in official_parts(part)]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path} is not a readable .npz ({error}): download it again") from None
    for (x, y), p in zip(pairs, official_parts(part), strict=True):
        check_images_and_labels(x, y, f"{path}:x_{p}", f"{path}:y_{p}")
    return np.concatenate([x for x, _ in pairs]), np.concatenate([y for _, y in pairs])


def _download(spec: MnistSource, cache: Path) -> Path:
    """The cached copy of `url`, fetched on first use; written whole or not at all."""
    target = cache / (Path(urlparse(spec.url).path).name or "mnist.npz")
    if target.is_file():
        return target
    log.info("downloading %s to %s", spec.url, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-")
    except OSError as error:
        raise DataError(
            f"cannot write into {target.parent} ({error}): set data.cache_dir or $HANDREC_CACHE"
        ) from None
    try:
        with os.fdopen(handle, "wb") as out:
            _fetch(spec.url, out)
        _verify(Path(temporary), spec)
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target


def _fetch(url: str, out: BinaryIO) -> None:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DataError(
            f"cannot download MNIST from {url} ({reason}): when offline, fetch mnist.npz elsewhere "
            "and set data.sources.<key>.path to it"
        ) from None


def _verify(path: Path, spec: MnistSource) -> None:
    if spec.sha256 is None:
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != spec.sha256:
        raise DataError(
            f"the file downloaded from {spec.url} has sha256 {digest}, expected {spec.sha256}: "
            "the download is damaged or the URL serves another file; try again or fix url/sha256"
        )
