"""Shared fixtures: composing the project's configs and a throwaway MLflow store."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from omegaconf import DictConfig

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytest_plugins = ["tests.browser"]  # the `browser` fixture of the real-browser tests


@pytest.fixture(autouse=True, scope="session")
def _isolated_data_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Prepared data is cached in a folder of the test session, never in the user's ~/.cache;
    subprocesses inherit it through the environment."""
    os.environ["HANDREC_CACHE"] = str(tmp_path_factory.mktemp("data-cache"))


from experiments import schema  # noqa: E402
from experiments.cli import cli  # noqa: E402
from experiments.schema import PROJECT_ROOT  # noqa: E402

CONF_DIR = PROJECT_ROOT / "conf"

# Small enough to train in seconds, large enough for a stratified 3-way split of 36 classes.
TINY = [
    "data.sources.sample.digits_per_class=12",
    "data.sources.sample.letters_per_class=12",
    "data.split.val=0.25",
    "data.split.test=0.25",
    "model.filters=4",
    "model.dense_units=16",
    "train.epochs=1",
    "train.batch_size=64",
    "train.verbose=0",
]


@pytest.fixture
def compose_config() -> Callable[..., DictConfig]:
    """compose_config(*overrides) → the project's composed root config, as the entrypoints
    compose it."""
    return lambda *overrides: schema.compose_config(overrides)


def exit_status(main: Callable[[list[str]], int | None], *argv: str) -> int:
    """`main(argv)` in this process through the convention of every entrypoint
    (experiments.cli): its exit status; what it printed stays in capsys."""
    with pytest.raises(SystemExit) as ended:
        cli(lambda: main(list(argv)), schema.CONFIG_ERRORS)
    return ended.value.code


@pytest.fixture
def tracking_overrides(tmp_path: Path) -> list[str]:
    """Overrides that send a run to its own sqlite store under tmp_path."""
    return [
        f"tracking.uri=sqlite:///{tmp_path}/mlflow.db",
        f"tracking.artifact_root={tmp_path}/artifacts",
        "tracking.experiment=test",
    ]


def run_module(
    module: str, cwd: Path, *args: str, timeout: int = 300
) -> subprocess.CompletedProcess:
    """`python -m module args` in a fresh process, from `cwd`, with TensorFlow's logs quiet."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` (a folder) made read-only inside the block: chmod for a user, the immutable flag
    for root, whom permissions do not stop."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("running as root on a file system without chattr +i")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
