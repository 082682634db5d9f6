"""The recognition page's first open: seconds to the first paint and until it can read.

    .venv/bin/python benchmarks/bench_page.py [--rounds 2]

Each round starts a fresh `streamlit run` (so nothing is imported yet, as after `make app`),
waits until its server answers, then opens the page in headless Chromium (Debian's
/usr/bin/chromium, through Playwright) and times, from the navigation: the page's title on
screen (first paint), and the model loaded with the upload box drawn (ready). A one-line
Streamlit script (`st.title`) run the same way gives the floor that Streamlit and the browser
themselves cost. Target: first paint ≤ 2 s on 2 cores; before the header was drawn ahead of the
TensorFlow import, the page stayed blank until it was ready (~14 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

PAGE = Path(__file__).resolve().parents[1] / "src" / "apps" / "page.py"
TITLE = "Handwritten character recognition"
FIRST_PAINT_TARGET_S = 2.0
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(script: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run script` on a free loopback port, once it answers its health check."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--server.port", str(port)]
    command += ["--browser.gatherUsageStats", "false"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"streamlit did not start for {script}")


def open_page(browser, url: str, title: str, ready: bool) -> tuple[float, float]:
    """(seconds to the title, seconds until the page can read) from the navigation."""
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    tab.set_default_timeout(120_000)
    start = time.perf_counter()
    tab.goto(url)
    tab.get_by_text(title).first.wait_for()
    painted = time.perf_counter() - start
    if ready:
        tab.get_by_test_id("stSidebar").get_by_text("Loaded").wait_for()
        tab.locator('input[type="file"]').wait_for(state="attached")
    done = time.perf_counter() - start
    tab.close()
    return painted, done


def first_open(browser, script: Path, title: str, ready: bool) -> tuple[float, float]:
    process, url = serve(script)
    try:
        return open_page(browser, url, title, ready)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="fresh servers per script")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs Chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        hello = Path(folder) / "hello.py"
        hello.write_text("import streamlit as st\n\nst.title('Hello')\n")
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        floor = [first_open(browser, hello, "Hello", ready=False) for _ in range(args.rounds)]
        page = [first_open(browser, PAGE, TITLE, ready=True) for _ in range(args.rounds)]
        browser.close()
    floor_paint = min(painted for painted, _ in floor)
    paint, ready = min(painted for painted, _ in page), min(done for _, done in page)
    print(f"load average {os.getloadavg()[0]:.1f}, best of {args.rounds} fresh servers each")
    print(f"{'':28}{'seconds':>8}")
    print(f"{'streamlit hello, title':28}{floor_paint:8.2f}")
    print(f"{'page, first paint (title)':28}{paint:8.2f}")
    print(f"{'page, ready (model loaded)':28}{ready:8.2f}")
    verdict = "meets" if paint <= FIRST_PAINT_TARGET_S else "misses"
    print(
        f"first paint {paint:.2f} s = {paint / floor_paint:.2f}× streamlit's own; {verdict} the "
        f"{FIRST_PAINT_TARGET_S:.0f} s target; ready after {ready:.2f} s"
    )


if __name__ == "__main__":
    main()
