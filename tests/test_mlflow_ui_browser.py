"""The MLflow UI in a real browser, on a store a real sweep filled: `python -m experiments.ui` on
a free loopback port, driven by headless Chromium through Playwright (skipped, saying how to
install them, where either is missing)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests.browser import free_port, stop
from tests.conftest import TINY, run_module

START_TIMEOUT = 240
UI_TIMEOUT_MS = 120_000
SCREENSHOTS = Path("/tmp/handrec_mlflow_ui")


def store_args(root: Path) -> list[str]:
    return [
        f"tracking.uri=sqlite:///{root}/mlflow.db",
        f"tracking.artifact_root={root}/artifacts",
        "tracking.experiment=ui",
    ]


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A 2-job sweep over model.filters; returns the store's folder and run name → run id."""
    root = tmp_path_factory.mktemp("ui-store")
    tiny = [a for a in TINY if not a.startswith("model.filters=")]
    args = ["--multirun", "model.filters=2,4", *tiny, *store_args(root)]
    done = run_module("experiments.run", root, *args, f"hydra.sweep.dir={root}/multirun")
    assert done.returncode == 0, done.stderr[-3000:]
    client = MlflowClient(f"sqlite:///{root}/mlflow.db")
    experiment = client.get_experiment_by_name("ui")
    return root, {
        r.info.run_name: r.info.run_id for r in client.search_runs([experiment.experiment_id])
    }


@pytest.fixture(scope="module")
def link(swept) -> Iterator[str]:
    """The link `python -m experiments.ui` prints, while the UI it started answers."""
    root, _ = swept
    port = free_port()
    log = root / "ui.log"
    command = [sys.executable, "-m", "experiments.ui", "--port", str(port), *store_args(root)]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, "PATH": path()}
        )
        try:
            wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
            (printed,) = re.findall(r"MLflow UI on \S+: (http://\S+)", log.read_text())
            yield printed
        finally:
            stop(process)


def path() -> str:
    """The virtualenv's bin first: `mlflow ui` starts uvicorn from there."""
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow ui exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"mlflow ui did not answer within {START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def tab(browser):
    page = browser.new_page(viewport={"width": 1700, "height": 900})
    page.set_default_timeout(UI_TIMEOUT_MS)
    yield page
    page.close()


def parent_name(runs: dict[str, str]) -> str:
    (name,) = [n for n in runs if n.startswith("sweep ")]
    return name


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name)


def test_the_printed_link_opens_the_training_runs_with_data_sets_and_summary_metrics(
    tab, link, swept
):
    _, runs = swept
    tab.goto(link)
    tab.get_by_text(parent_name(runs)).first.wait_for()
    # the training view's sidebar (Runs, Models), not the GenAI one (Overview, Judges, Prompts)
    assert tab.get_by_text("Judges", exact=True).count() == 0
    assert tab.get_by_text("Model registry", exact=True).count() == 1
    for column in ("Dataset", "best_val_accuracy", "test_accuracy", "test_macro_f1"):
        tab.get_by_role("columnheader", name=column).first.wait_for()
    tab.get_by_text("sample (").first.wait_for()  # the parent shows its best run's data
    shot(tab, "runs.png")


def test_a_sweeps_children_sit_under_the_parent_named_by_the_swept_key(tab, link, swept):
    _, runs = swept
    tab.goto(link)
    name = tab.locator("[role='gridcell'][col-id='attributes.`Run Name`']", has_text="sweep ")
    name.first.locator("button").first.click()
    for child in ("model.filters=2", "model.filters=4"):
        tab.get_by_text(child, exact=True).first.wait_for()
    assert {"model.filters=2", "model.filters=4"} <= set(runs)


def test_a_run_page_shows_its_summary_metrics_and_data_sets(tab, link, swept):
    _, runs = swept
    experiment_url = link.split("/runs?")[0]
    tab.goto(f"{experiment_url}/runs/{runs['model.filters=4']}?workflowType=machine_learning")
    tab.get_by_text("Datasets").first.wait_for()
    tab.get_by_text("sample (").first.wait_for()
    for metric in ("best_val_accuracy", "test_accuracy", "training_seconds"):
        tab.get_by_text(metric, exact=True).first.wait_for()
    shot(tab, "run.png")
