"""What a user waits for without training anything — `--help`, `--cfg job`, a config error —
comes before TensorFlow or MLflow are imported: each entrypoint parses its arguments and checks
its config first (docs/architecture.md, "Command lines"). Each command runs in a fresh process
under `python -X importtime`, which lists every module it imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

HEAVY = {"tensorflow", "mlflow"}


def started(cwd: Path, module: str, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """`python -m module args` in a fresh process: how it ended (stderr without the import
    times), and which of TensorFlow and MLflow it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    times = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in times}
    done.stderr = "".join(
        f"{line}\n" for line in done.stderr.splitlines() if not line.startswith("import time:")
    )
    return done, imported & HEAVY


def refused(cwd: Path, module: str, *args: str) -> tuple[str, set[str]]:
    """The one line a command refused its input with (exit 2), and the heavy imports."""
    done, heavy = started(cwd, module, *args)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.count("\n") == 1, done.stderr[-2000:]
    return done.stderr, heavy


@pytest.mark.parametrize(
    "module",
    [
        "experiments.run",
        "experiments.tune",
        "experiments.repeat",
        "experiments.compare",
        "experiments.evaluate",
        "experiments.data",
        "experiments.ui",
        "apps.predict",
    ],
)
def test_help_imports_neither_tensorflow_nor_mlflow(tmp_path, module):
    done, heavy = started(tmp_path, module, "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"python -m {module}" in done.stdout
    assert heavy == set()


def test_run_prints_its_job_config_without_tensorflow_or_mlflow(tmp_path):
    done, heavy = started(tmp_path, "experiments.run", "--cfg", "job", "model.filters=8")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "filters: 8" in done.stdout
    assert heavy == set()


@pytest.mark.parametrize(
    ("module", "args", "error"),
    [
        ("experiments.run", ["model.filters=0"], "model.filters must be >= 1, got 0"),
        (
            "experiments.tune",
            ["hparams_search.space={model.dropout:{high:1.5}}"],
            "hparams_search.space.model.dropout: 1.5 is refused",
        ),
        ("experiments.repeat", ["model.filters=8"], "nothing to repeat"),
        ("experiments.compare", ["tracking.experiment=???"], "Structured config of type"),
        ("experiments.evaluate", ["--part", "dev"], "--part must be one of all, train, val, test"),
        ("experiments.data", ["data.split.val=1.5"], "data.split.val must be in (0, 1), got 1.5"),
        ("experiments.ui", ["model.filters=0"], "model.filters must be >= 1, got 0"),
        ("apps.predict", ["--model", "missing.keras", "a.png"], "model not found: missing.keras"),
        ("apps.predict", ["--model", "classes.txt", "a.png"], "classes.txt is not a .keras file"),
    ],
)
def test_a_config_error_is_refused_before_tensorflow_or_mlflow_load(tmp_path, module, args, error):
    (tmp_path / "classes.txt").write_text("0\n1\n")
    line, heavy = refused(tmp_path, module, *args)
    assert line.startswith(f"error: {error}")
    assert heavy == set()


def test_compare_refuses_a_malformed_filter_without_tensorflow(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.MlflowClient(uri).create_experiment("handrec")
    line, heavy = refused(
        tmp_path, "experiments.compare", f"tracking.uri={uri}", "--filter", "params.x =="
    )
    assert line.startswith("error: --filter 'params.x ==' is not an MLflow search filter")
    assert heavy == {"mlflow"}  # MLflow parses its filters


def test_predict_refuses_line_options_without_line_without_tensorflow_or_mlflow(tmp_path):
    done, heavy = started(tmp_path, "apps.predict", "--pattern", "[0-9]+", "image.png")
    assert done.returncode == 2  # argparse's usage error: the usage, then the line
    assert done.stderr.endswith(
        "error: --pattern, --words and --no-context read lines: add --line\n"
    )
    assert heavy == set()
