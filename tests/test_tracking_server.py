"""A run logged to a remote `mlflow server`, checked through the server's REST API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import TINY

API = "api/2.0/mlflow"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, "mlflow server exited before it served"
        try:
            if requests.get(f"{url}/health", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"mlflow server at {url} not healthy after {timeout_s} s")


def stop(server: subprocess.Popen) -> None:
    """The server and the workers it started: its own process group."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    url = f"http://127.0.0.1:{free_port()}"
    with open(root / "server.log", "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlflow",
                "server",
                "--backend-store-uri",
                f"sqlite:///{root}/mlflow.db",
                "--artifacts-destination",
                str(root / "artifacts"),
                "--serve-artifacts",
                "--host",
                "127.0.0.1",
                "--port",
                url.rsplit(":", 1)[1],
                "--workers",
                "1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_healthy(url, process)
        yield url, root
    finally:
        stop(process)


@pytest.fixture(scope="module")
def remote_run(server, tmp_path_factory):
    """One tiny run from an unrelated directory, logged to the server."""
    url, root = server
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.run",
            *TINY,
            f"tracking.uri={url}",
            "tracking.experiment=remote",
        ],
        cwd=tmp_path_factory.mktemp("client"),
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    experiment = requests.get(
        f"{url}/{API}/experiments/get-by-name", params={"experiment_name": "remote"}, timeout=10
    ).json()["experiment"]
    (run,) = requests.post(
        f"{url}/{API}/runs/search",
        json={"experiment_ids": [experiment["experiment_id"]]},
        timeout=10,
    ).json()["runs"]
    return url, root, run


def test_a_run_against_a_tracking_server_finishes_there(remote_run):
    _, _, run = remote_run
    assert run["info"]["status"] == "FINISHED"


def test_its_metrics_reach_the_server(remote_run):
    _, _, run = remote_run
    metrics = {m["key"] for m in run["data"]["metrics"]}
    assert {"val/accuracy", "best_val_accuracy", "test_accuracy", "test_macro_f1"} <= metrics


def test_its_artifacts_are_stored_by_the_server(remote_run):
    url, root, run = remote_run
    listed = requests.get(
        f"{url}/{API}/artifacts/list", params={"run_id": run["info"]["run_id"]}, timeout=10
    ).json()["files"]
    assert "config.yaml" in {f["path"] for f in listed}
    assert any(Path(root, "artifacts").rglob("config.yaml"))
