"""The MNIST source: Keras' npz (local or downloaded from a loopback server) and IDX folders."""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from handrec.data.idx import write_idx
from handrec.data.sources import load
from handrec.data.sources.mnist import IDX_STEMS, MnistSource
from handrec.errors import ConfigError, DataError


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test prepares its data in its own cache, tmp_path/cache."""
    monkeypatch.setenv("HANDREC_CACHE", str(tmp_path / "cache"))


def digits(n: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """n images whose pixels all equal offset + index, labels cycling 0–9."""
    x = (offset + np.arange(n, dtype=np.uint8))[:, None, None] * np.ones((1, 28, 28), np.uint8)
    return x, (np.arange(n) % 10).astype(np.uint8)


TRAIN, TEST = digits(12, 0), digits(5, 100)


def write_npz(path: Path, **overrides: np.ndarray) -> Path:
    arrays = {"x_train": TRAIN[0], "y_train": TRAIN[1], "x_test": TEST[0], "y_test": TEST[1]}
    np.savez_compressed(path, **{**arrays, **overrides})
    return path


def write_idx_folder(folder: Path, parts: tuple[str, ...] = ("train", "test")) -> Path:
    folder.mkdir(exist_ok=True)
    for part in parts:
        images, labels = IDX_STEMS[part]
        x, y = TRAIN if part == "train" else TEST
        write_idx(folder / f"{images}.gz", x)
        write_idx(folder / f"{labels}.gz", y)
    return folder


def mnist(tmp_path: Path, **settings) -> MnistSource:
    return MnistSource(**settings)


class Server:
    """A static file server on 127.0.0.1 that counts the requests it answers."""

    def __init__(self, root: Path) -> None:
        self.requests = 0
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def server(tmp_path: Path, monkeypatch) -> Iterator[Server]:
    for proxy in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    (tmp_path / "www").mkdir()
    serving = Server(tmp_path / "www")
    thread = threading.Thread(target=serving.httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield serving
    serving.httpd.shutdown()
    serving.httpd.server_close()


def test_a_local_npz_gives_train_then_test_labelled_by_digit_name(tmp_path: Path):
    data = load(mnist(tmp_path, path=str(write_npz(tmp_path / "mnist.npz"))))
    assert "".join(data.labels.classes) == "0123456789"
    assert len(data) == 17 and data.x[12, 0, 0] == 100
    assert data.labels.names(data.y[:3]) == ["0", "1", "2"]


@pytest.mark.parametrize(("part", "size", "first_pixel"), [("train", 12, 0), ("test", 5, 100)])
def test_part_selects_the_official_split(tmp_path: Path, part: str, size: int, first_pixel: int):
    data = load(mnist(tmp_path, path=str(write_npz(tmp_path / "mnist.npz")), part=part))
    assert len(data) == size and data.x[0, 0, 0] == first_pixel


def test_a_folder_of_the_four_idx_files_reads_like_the_npz(tmp_path: Path):
    from_idx = load(mnist(tmp_path, path=str(write_idx_folder(tmp_path / "idx"))))
    from_npz = load(mnist(tmp_path, path=str(write_npz(tmp_path / "mnist.npz"))))
    assert from_idx.fingerprint() == from_npz.fingerprint()


def test_the_test_part_needs_only_the_test_files(tmp_path: Path):
    folder = write_idx_folder(tmp_path / "idx", parts=("test",))
    assert len(load(mnist(tmp_path, path=str(folder), part="test"))) == 5


def test_a_missing_idx_file_is_named(tmp_path: Path):
    folder = write_idx_folder(tmp_path / "idx", parts=("test",))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz does not exist"):
        load(mnist(tmp_path, path=str(folder)))


def test_a_missing_path_says_what_to_set(tmp_path: Path):
    with pytest.raises(DataError, match=r"nowhere.npz does not exist: set data.sources.<key>.path"):
        load(mnist(tmp_path, path=str(tmp_path / "nowhere.npz")))


def test_an_npz_without_the_keras_arrays_is_refused(tmp_path: Path):
    np.savez(tmp_path / "other.npz", images=TRAIN[0])
    with pytest.raises(DataError, match=r"lacks the arrays \['x_train', 'y_train'"):
        load(mnist(tmp_path, path=str(tmp_path / "other.npz")))


def test_a_label_outside_0_to_9_names_the_file(tmp_path: Path):
    path = write_npz(tmp_path / "mnist.npz", y_test=np.array([0, 1, 12, 3, 4], np.uint8))
    with pytest.raises(DataError, match="mnist.npz: record 14 has label 12"):
        load(mnist(tmp_path, path=str(path)))


def test_a_null_path_downloads_the_url_once_into_the_cache(tmp_path: Path, server: Server):
    write_npz(tmp_path / "www" / "mnist.npz")
    spec = mnist(tmp_path, url=f"{server.url}/mnist.npz", sha256=None)
    first, again = load(spec), load(spec)
    assert server.requests == 1 and (tmp_path / "cache" / "mnist.npz").is_file()
    assert len(first) == 17 and again.fingerprint() == first.fingerprint()


def test_a_download_matching_the_sha256_is_kept(tmp_path: Path, server: Server):
    digest = hashlib.sha256(write_npz(tmp_path / "www" / "mnist.npz").read_bytes()).hexdigest()
    assert len(load(mnist(tmp_path, url=f"{server.url}/mnist.npz", sha256=digest))) == 17


def test_a_download_with_another_sha256_is_refused_and_not_kept(tmp_path: Path, server: Server):
    write_npz(tmp_path / "www" / "mnist.npz")
    with pytest.raises(DataError, match="has sha256 .*, expected 00"):
        load(mnist(tmp_path, url=f"{server.url}/mnist.npz", sha256="00" * 32))
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_failed_download_says_how_to_work_offline(tmp_path: Path, server: Server):
    with pytest.raises(DataError, match=r"cannot download MNIST from .*data.sources.<key>.path"):
        load(mnist(tmp_path, url=f"{server.url}/missing.npz", sha256=None))


def test_an_unreachable_server_is_a_data_error(tmp_path: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DataError, match="cannot download MNIST"):
        load(mnist(tmp_path, url=f"http://127.0.0.1:{port}/mnist.npz"))


def test_an_unknown_part_is_a_config_error():
    with pytest.raises(ConfigError, match="part must be one of all|train|test"):
        MnistSource(part="validation")
