"""What the real-browser tests share: Debian's Chromium driven by Playwright, loopback ports,
and stopping the server under test. A pytest plugin (conftest.py), so `browser` is a fixture."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
INSTALL = "install them with `apt-get install chromium` and `pip install playwright`"


def chromium() -> str:
    """The system Chromium (Playwright's own browsers are never downloaded), or skip."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip(f"browser test needs Chromium and Playwright: no Chromium found; {INSTALL}")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def browser():
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"browser test needs Chromium and Playwright: no playwright; {INSTALL}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
