"""The IDX format of MNIST and EMNIST (raw or gzipped), and the checks both data sets share.

IDX: two zero bytes, a type code, the number of dimensions, each dimension as a big-endian
uint32, then the values in C order. See http://yann.lecun.com/exdb/mnist/.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from handrec.data.dataset import IMAGE_SHAPE
from handrec.errors import DataError, require

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"

PARTS = ("all", "train", "test")
"""`part` of a source with an official split: both parts (train then test), or one of them."""


def check_part(part: str, source: str) -> None:
    """Range check for a spec's `part` field (raises ConfigError)."""
    require(part in PARTS, f"source {source}: part must be one of {'|'.join(PARTS)}, got {part!r}")


def official_parts(part: str) -> tuple[str, ...]:
    return ("train", "test") if part == "all" else (part,)


def read_idx(path: Path) -> np.ndarray:
    """The array in an IDX file (gzipped or not, told by its first bytes)."""
    if not path.is_file():
        raise DataError(f"{path} does not exist: download it again or fix the path")
    try:
        with _open(path) as stream:
            return _parse(stream, path)
    except (EOFError, OSError, zlib.error) as error:
        raise DataError(f"{path} is truncated or corrupt ({error}): download it again") from None


def write_idx(path: Path, array: np.ndarray) -> None:
    """The inverse of read_idx (gzipped when the name ends in .gz): for tests and exports."""
    code = next(c for c, t in _TYPES.items() if np.dtype(t) == array.dtype.newbyteorder(">"))
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=_TYPES[code]).tobytes()
    path.write_bytes(gzip.compress(payload) if path.suffix == ".gz" else payload)


def locate(folder: Path, stem: str) -> Path:
    """`stem.gz` (as distributed) or `stem` (unpacked) inside `folder`."""
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"{folder / stem}.gz does not exist: put the official file there, fix the path, or read "
        "only the parts you have with data.sources.<key>.part=train|test"
    )


def read_images_and_labels(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    """A pair of IDX files as (uint8 [N, 28, 28], raw int64 labels [N]), checked to match."""
    x, y = read_idx(images), read_idx(labels)
    check_images_and_labels(x, y, str(images), str(labels))
    return x, y.astype(np.int64)


def check_images_and_labels(x: np.ndarray, y: np.ndarray, x_name: str, y_name: str) -> None:
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"{x_name}: expected uint8 images [N, 28, 28], found {x.dtype} {list(x.shape)}: "
            "is it an images file?"
        )
    if y.ndim != 1:
        raise DataError(f"{y_name}: expected a list of labels, found shape {list(y.shape)}")
    if len(x) != len(y):
        raise DataError(
            f"{x_name} holds {len(x)} images but {y_name} holds {len(y)} labels: "
            "use the images and labels files of the same part"
        )


def map_labels(raw: np.ndarray, table: np.ndarray, source: str) -> np.ndarray:
    """Raw labels → indices via table[raw] (−1 = unknown); an unknown label names its record."""
    known = (raw >= 0) & (raw < len(table))
    mapped = np.where(known, table[np.where(known, raw, 0)], -1)
    bad = np.flatnonzero(mapped < 0)
    if bad.size:
        raise DataError(
            f"{source}: record {bad[0]} has label {raw[bad[0]]}, which the class mapping lacks "
            f"({bad.size} such records): use the labels file that belongs to this data set"
        )
    return mapped


def _open(path: Path) -> BinaryIO:
    with path.open("rb") as probe:
        zipped = probe.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if zipped else path.open("rb")


def _parse(stream: BinaryIO, path: Path) -> np.ndarray:
    magic = stream.read(4)
    if not magic:
        raise DataError(f"{path} is empty: download it again")
    if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _TYPES:
        raise DataError(
            f"{path} is not an IDX file (magic number 0x{magic.hex()}, expected 0x0000080N): "
            "check that the path names the right file"
        )
    ndim = magic[3]
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(f"{path} ends inside its header: download it again")
    shape = struct.unpack(f">{ndim}I", dims)
    try:
        array = np.empty(shape, dtype=_TYPES[magic[2]])
    except (ValueError, MemoryError):
        raise DataError(
            f"{path}: its header promises {list(shape)} values: download it again"
        ) from None
    got = stream.readinto(array.reshape(-1).view(np.uint8))
    if got < array.nbytes or stream.read(1):
        held = f"{got} bytes" if got < array.nbytes else "more bytes"
        raise DataError(
            f"{path}: its header promises {list(array.shape)} ({array.nbytes} bytes of data) but "
            f"the file holds {held}: it is truncated or not an IDX file; download it again"
        )
    return array.astype(array.dtype.newbyteorder("="), copy=False)
