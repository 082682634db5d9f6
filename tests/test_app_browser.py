"""The page in a real browser: `streamlit run` on a free loopback port, driven by headless
Chromium through Playwright. Skipped, saying how to install them, where either is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps import gallery
from apps.settings import MODEL_ENV
from handrec.inference import Predictor
from handrec.preprocess import decode_image
from tests.browser import free_port, stop
from tests.test_app import PAGE, png, tiny_model

START_TIMEOUT = 120
ANSWER_TIMEOUT_MS = 120_000
SCREENSHOT = Path("/tmp/handrec_page.png")


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not answer within {START_TIMEOUT}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_file) -> Iterator[str]:
    """The page served by `streamlit run` with the tiny model; stopped whatever happens."""
    root = tmp_path_factory.mktemp("server")
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        MODEL_ENV: str(model_file),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root}/no-store.db",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    command = [sys.executable, "-m", "streamlit", "run", str(PAGE), "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--server.port", url.rsplit(":", 1)[1]]
    command += ["--browser.gatherUsageStats", "false"]
    log = root / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
        try:
            wait_until_healthy(url, process, log)
            yield url
        finally:
            stop(process)


@pytest.fixture
def page(browser, server):
    """A fresh tab on the page, once its title and file uploader have rendered."""
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    tab.set_default_timeout(ANSWER_TIMEOUT_MS)
    tab.goto(server)
    tab.get_by_text("Handwritten character recognition").wait_for()
    tab.locator('input[type="file"]').wait_for(state="attached")
    yield tab
    tab.close()


def upload(page, name: str, data: bytes, mime: str) -> None:
    page.locator('input[type="file"]').set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )


def test_the_page_has_no_developer_toolbar_and_an_upload_shows_its_prediction(
    page, model_file, tmp_path
):
    """No Deploy button, Stop or Rerun: the page is a tool, not an app under development."""
    page.get_by_test_id("stSidebar").get_by_text("Loaded").wait_for()
    for name in ("Deploy", "Stop", "Rerun"):
        assert page.get_by_role("button", name=name).count() == 0, name
    image = png(gallery.character_samples()[0].image)
    upload(page, "two.png", image, "image/png")
    answer = page.get_by_test_id("stMetricValue").first
    answer.wait_for()
    expected = Predictor.load(model_file).predict(decode_image(image)).label
    assert answer.inner_text().strip() == expected
    page.get_by_text("What the model saw").first.wait_for()
    page.get_by_test_id("stVegaLiteChart").first.wait_for()
    page.wait_for_timeout(1500)  # let the chart finish drawing before the picture
    page.screenshot(path=tmp_path / "page.png", full_page=True)
    shutil.copyfile(tmp_path / "page.png", SCREENSHOT)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def y_axis(page) -> str:
    """The characters of the top-5 chart's axis, top to bottom, as the chart itself lists them."""
    axis = page.get_by_test_id("stVegaLiteChart").first.locator('[aria-label^="Y-axis"]')
    return axis.get_attribute("aria-label").rsplit(":", 1)[1].replace(" ", "")


def test_the_top_5_bars_follow_each_new_answer_most_likely_first(page, model_file):
    """The chart is reused for the next sample; its bars must not keep the previous order."""
    predictor = Predictor.load(model_file, top_k=5)
    page.get_by_role("tab", name="Samples").click()
    for sample in gallery.character_samples()[:3]:
        page.get_by_role("button", name=f"Try {sample.name}", exact=True).click()
        page.get_by_text(f"Sample {sample.name}", exact=True).wait_for()
        expected = ",".join(label for label, _ in predictor.predict(sample.image).top_k)
        page.wait_for_function(
            """([expected]) => {
                const axis = document.querySelector('[aria-label^="Y-axis"]');
                return axis && axis.getAttribute("aria-label").endsWith(expected);
            }""",
            arg=[expected.replace(",", ", ")],
        )
        assert y_axis(page) == expected


def test_a_mistyped_model_path_is_said_in_the_sidebar_and_the_upload_stays(page, model_file):
    upload(page, "two.png", png(gallery.character_samples()[0].image), "image/png")
    page.get_by_test_id("stMetricValue").first.wait_for()
    path = page.get_by_label("Model file or folder")
    path.fill(f"{model_file}.typo")
    path.press("Enter")
    page.get_by_test_id("stSidebar").get_by_text("Model not found").wait_for()
    page.get_by_text("No model to read with").wait_for()
    assert page.get_by_test_id("stMetricValue").count() == 0
    assert page.get_by_test_id("stFileUploader").get_by_text("two.png").is_visible()
    path.fill(str(model_file))
    path.press("Enter")
    page.get_by_test_id("stMetricValue").first.wait_for()


def test_a_file_that_is_no_image_shows_a_message_not_a_traceback(page):
    upload(page, "notes.txt", b"shopping list", "text/plain")
    page.get_by_text("not a known image format").wait_for()
    assert "Traceback" not in page.content()


def test_a_drawing_on_the_canvas_shows_a_prediction_and_its_toolbar_clears_the_tabs(page):
    page.get_by_role("tab", name="Draw").click()
    canvas = page.locator("canvas").last
    canvas.hover()
    page.wait_for_timeout(500)  # the toolbar slides in on hover, above the canvas's top edge
    tabs = page.get_by_role("tablist").bounding_box()
    assert page.locator(".dc-toolbar").bounding_box()["y"] >= tabs["y"] + tabs["height"]
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + box["height"] * 0.6, steps=20)
    page.mouse.up()
    page.get_by_text("Your drawing").wait_for()
    assert page.get_by_test_id("stMetricValue").first.inner_text().strip()
