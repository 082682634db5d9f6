"""An on-disk cache of prepared data sets, so a large source is parsed once, not on every run.

An entry is a folder of three .npy files (x uint8, y int64, class names) named by a hash of what
it was built from: the source files' identity (path, size, mtime_ns) and the spec's settings. A
changed file or setting gives another key, hence a rebuild. Plain .npy, not .npz, because it loads
with one read (the 372,450 A–Z letters in ~0.2 s, an .npz takes 3x longer). An entry is written
into a temporary folder and renamed into place, so a crash never leaves a half-written entry
under a valid name; one that is unreadable anyway (truncated, deleted files) is rebuilt.

Entries are never replaced in place (a new key is a new folder), so old ones pile up: a hit
marks its entry used (its folder's mtime), and `prune` deletes those unused for a while.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from handrec.data.dataset import Dataset
from handrec.errors import DataError
from handrec.labels import LabelSpace

log = logging.getLogger(__name__)

CACHE_ENV = "HANDREC_CACHE"
DEFAULT_CACHE = Path("~/.cache/handrec")
FORMAT = 1
"""Bump when the layout of an entry changes, so old entries are ignored."""
_PARTS = ("x", "y", "classes")

_UNREADABLE = (OSError, EOFError, ValueError, DataError)


def cache_root(cache_dir: str | None) -> Path:
    """`cache_dir` if given, else $HANDREC_CACHE, else ~/.cache/handrec."""
    chosen = cache_dir or os.environ.get(CACHE_ENV) or DEFAULT_CACHE
    return Path(chosen).expanduser()


def file_identity(path: Path) -> list[str | int]:
    """Absolute path, size and mtime_ns: cheap to read, and any rewrite of the file changes it."""
    stat = path.stat()
    return [str(path.resolve()), stat.st_size, stat.st_mtime_ns]


@dataclass(frozen=True)
class Plan:
    """How a source makes its data set: `build` it, under the entry `name`, keyed (besides the
    source's settings) by `inputs`: what it reads, e.g. files' identities, JSON-serialisable."""

    name: str
    inputs: list[Any]
    build: Callable[[], Dataset]


def load_planned(spec: Any, plan: Plan, cache_dir: str | None) -> Dataset:
    """The data set a source's `plan` makes, from the cache when neither the spec's settings nor
    the plan's inputs changed: the one place a source's data is keyed."""
    return cached(cache_dir, plan.name, [dataclasses.asdict(spec), *plan.inputs], plan.build)


def cached(
    cache_dir: str | None, name: str, key_parts: Sequence[Any], build: Callable[[], Dataset]
) -> Dataset:
    """The data set for `key_parts` from the cache, or `build()` it and store it.

    `key_parts` must be JSON-serialisable; `name` only makes entries readable in a listing.
    An unreadable entry is rebuilt with a warning.
    """
    path = cache_root(cache_dir) / f"{name}-{_digest(name, key_parts)}"
    if path.is_dir():
        try:
            data = _read(path)
        except _UNREADABLE as error:
            log.warning("cache entry %s is unreadable (%s); rebuilding it", path, error)
        else:
            log.info("%s: loaded %d samples from cache %s", name, len(data), path)
            with contextlib.suppress(OSError):  # a read-only cache still serves its entries
                os.utime(path)  # marks it used, for `prune`
            return data
    log.info("%s: preparing data (not cached yet)", name)
    data = build()
    try:
        _write(path, data)
    except OSError as error:
        log.warning(
            "cannot write cache entry %s (%s): set data.cache_dir or $%s", path, error, CACHE_ENV
        )
    else:
        log.info("%s: cached %d samples in %s", name, len(data), path)
    return data


@dataclass(frozen=True)
class Entry:
    path: Path
    size: int
    """Bytes on disk."""
    last_used: float
    """When it was written or last loaded (seconds since the epoch)."""


def entries(cache_dir: str | None = None) -> list[Entry]:
    """The cache's entries, least recently used first; also half-written ones a crash left."""
    root = cache_root(cache_dir)
    found = [
        Entry(
            path,
            sum(f.stat().st_size for f in path.rglob("*") if f.is_file()),
            path.stat().st_mtime,
        )
        for path in (root.iterdir() if root.is_dir() else ())
        if path.is_dir()
    ]
    return sorted(found, key=lambda entry: entry.last_used)


def prune(cache_dir: str | None = None, unused_days: float = 0) -> list[Entry]:
    """Deletes the entries not used for `unused_days` (0: all of them); returns them."""
    cutoff = time.time() - unused_days * 86400
    old = [entry for entry in entries(cache_dir) if entry.last_used <= cutoff]
    for entry in old:
        shutil.rmtree(entry.path, ignore_errors=True)
    return old


def _digest(name: str, key_parts: Sequence[Any]) -> str:
    text = json.dumps([FORMAT, name, list(key_parts)], sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _read(path: Path) -> Dataset:
    x, y, classes = (np.load(path / f"{part}.npy", allow_pickle=False) for part in _PARTS)
    return Dataset(x, y, LabelSpace(tuple(classes.tolist())))


def _write(path: Path, data: Dataset) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}-"))
    try:
        arrays = (data.x, data.y, np.array(data.labels.classes))
        for part, array in zip(_PARTS, arrays, strict=True):
            np.save(temporary / f"{part}.npy", array, allow_pickle=False)
        shutil.rmtree(path, ignore_errors=True)
        os.replace(temporary, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
