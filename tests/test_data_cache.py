"""The prepared-data cache: hits skip the build, any change rebuilds, bad entries heal."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest

from handrec.data import cache
from handrec.data.cache import cache_root, cached, file_identity
from handrec.data.dataset import Dataset
from handrec.errors import DataError
from handrec.labels import LabelSpace


class Builder:
    """A build function that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> Dataset:
        self.calls += 1
        x = np.arange(4 * 28 * 28, dtype=np.uint32).reshape(4, 28, 28).astype(np.uint8)
        return Dataset(x, np.array([0, 1, 2, 1]), LabelSpace.from_names(["7", "a", "Ä"]))


def entries(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def test_a_miss_builds_and_stores_one_entry(tmp_path: Path):
    build = Builder()
    cached(str(tmp_path), "src", ["k"], build)
    (entry,) = entries(tmp_path)
    assert build.calls == 1 and entry.name.startswith("src-")
    assert sorted(p.name for p in entry.iterdir()) == ["classes.npy", "x.npy", "y.npy"]


def test_a_hit_returns_the_stored_data_without_building(tmp_path: Path):
    first = cached(str(tmp_path), "src", ["k"], Builder())
    build = Builder()
    again = cached(str(tmp_path), "src", ["k"], build)
    assert build.calls == 0
    assert again.fingerprint() == first.fingerprint()
    assert again.labels == first.labels and again.x.dtype == np.uint8


def test_a_changed_setting_rebuilds(tmp_path: Path):
    cached(str(tmp_path), "src", [{"part": "all"}], Builder())
    build = Builder()
    cached(str(tmp_path), "src", [{"part": "test"}], build)
    assert build.calls == 1


def test_a_rewritten_source_file_rebuilds(tmp_path: Path):
    source = tmp_path / "data.csv"
    source.write_text("1,2\n")
    cached(str(tmp_path / "cache"), "src", [file_identity(source)], Builder())
    source.write_text("1,2,3\n")
    os.utime(source, ns=(1, 1))
    build = Builder()
    cached(str(tmp_path / "cache"), "src", [file_identity(source)], build)
    assert build.calls == 1


def test_a_corrupt_entry_is_rebuilt_with_a_warning(tmp_path: Path, caplog):
    cached(str(tmp_path), "src", ["k"], Builder())
    (entry,) = entries(tmp_path)
    images = entry / "x.npy"
    images.write_bytes(images.read_bytes()[:1000])
    build = Builder()
    with caplog.at_level(logging.WARNING, logger="handrec.data.cache"):
        data = cached(str(tmp_path), "src", ["k"], build)
    assert build.calls == 1 and len(data) == 4
    assert "unreadable" in caplog.text and entry.name in caplog.text
    assert cached(str(tmp_path), "src", ["k"], Builder()).fingerprint() == data.fingerprint()


def test_a_failed_build_leaves_nothing_in_the_cache(tmp_path: Path):
    def fail() -> Dataset:
        raise DataError("bad file")

    with pytest.raises(DataError):
        cached(str(tmp_path / "cache"), "src", ["k"], fail)
    assert not (tmp_path / "cache").exists() or entries(tmp_path / "cache") == []


def test_an_unwritable_cache_still_returns_the_data(tmp_path: Path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, logger="handrec.data.cache"):
        data = cached(str(blocker / "cache"), "src", ["k"], Builder())
    assert len(data) == 4 and "cannot write cache entry" in caplog.text


def test_the_cache_dir_setting_wins_over_the_environment(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("HANDREC_CACHE", str(tmp_path / "env"))
    assert cache_root(str(tmp_path / "set")) == tmp_path / "set"


def test_handrec_cache_is_used_when_no_cache_dir_is_set(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("HANDREC_CACHE", str(tmp_path / "env"))
    assert cache_root(None) == tmp_path / "env"


def test_the_default_cache_is_under_the_home_folder(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("HANDREC_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_root(None) == tmp_path / ".cache" / "handrec"


def age(entry: Path, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(entry, (then, then))


def test_entries_lists_each_with_its_size_least_recently_used_first(tmp_path: Path):
    cached(str(tmp_path), "new", ["k"], Builder())
    cached(str(tmp_path), "old", ["k"], Builder())
    age(next(tmp_path.glob("old-*")), 3)
    listed = cache.entries(str(tmp_path))
    assert [e.path.name.split("-")[0] for e in listed] == ["old", "new"]
    assert all(e.size > 4 * 28 * 28 for e in listed)


def test_a_hit_marks_its_entry_used(tmp_path: Path):
    cached(str(tmp_path), "src", ["k"], Builder())
    (entry,) = entries(tmp_path)
    age(entry, 3)
    cached(str(tmp_path), "src", ["k"], Builder())
    assert time.time() - entry.stat().st_mtime < 60


def test_prune_deletes_only_the_entries_unused_for_that_long(tmp_path: Path):
    cached(str(tmp_path), "new", ["k"], Builder())
    cached(str(tmp_path), "old", ["k"], Builder())
    age(next(tmp_path.glob("old-*")), 10)
    deleted = cache.prune(str(tmp_path), unused_days=7)
    assert [e.path.name.split("-")[0] for e in deleted] == ["old"]
    assert [p.name.split("-")[0] for p in entries(tmp_path)] == ["new"]


def test_prune_of_zero_days_empties_the_cache(tmp_path: Path):
    cached(str(tmp_path), "src", ["k"], Builder())
    cache.prune(str(tmp_path), unused_days=0)
    assert entries(tmp_path) == []
