"""The command-line convention every entrypoint shares: one line and exit 2 for a user's
mistake, 130/143 for SIGINT/SIGTERM, the entrypoint's own code otherwise."""

from __future__ import annotations

import importlib
import signal
import subprocess
import sys
import time

import pytest

from experiments.cli import EXIT_CODES, EXIT_USAGE, Interrupted, cli, exit_code, interruption
from handrec.errors import ConfigError, first_line

WAITS_FOR_SIGNAL = """
import sys, time
from experiments.cli import cli
def main():
    print("ready", flush=True)
    try:
        time.sleep(60)
    finally:
        print("cleaned up", flush=True)
cli(main)
"""


def run_cli(body: str) -> subprocess.CompletedProcess:
    script = f"from experiments.cli import cli\nfrom handrec.errors import *\n{body}\ncli(main)"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )


def test_a_handrec_error_is_one_line_on_stderr_and_exit_2():
    done = run_cli("def main():\n    raise ConfigError('model.filters must be >= 1, got 0')")
    assert done.returncode == EXIT_USAGE
    assert done.stderr.strip() == "error: model.filters must be >= 1, got 0"


def test_the_entrypoints_own_code_is_the_exit_status():
    assert run_cli("def main():\n    return 1").returncode == 1
    assert run_cli("def main():\n    return None").returncode == 0


def test_an_unknown_exception_keeps_its_traceback():
    done = run_cli("def main():\n    raise RuntimeError('bug')")
    assert done.returncode == 1
    assert "Traceback" in done.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_runs_cleanup_and_exits_128_plus_its_number(signum, code):
    process = subprocess.Popen(
        [sys.executable, "-c", WAITS_FOR_SIGNAL],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"
    time.sleep(0.1)
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == code
    assert out.strip() == "cleaned up"
    assert err.strip() == f"interrupted by {signal.Signals(signum).name}"


def test_an_interruption_carries_the_line_the_user_sees():
    cut = interruption(Interrupted(signal.SIGTERM), "interrupted after epoch 2 of 5")
    assert (cut.signum, cut.message, cut.exit_code) == (
        signal.SIGTERM,
        "interrupted after epoch 2 of 5",
        143,
    )
    assert interruption(KeyboardInterrupt()).exit_code == 130


def test_usage_errors_of_other_libraries_can_be_named():
    assert exit_code(ValueError("x"), usage_errors=(ValueError,)) == EXIT_USAGE
    with pytest.raises(ValueError):
        exit_code(ValueError("x"))


def test_first_line_of_an_error_without_a_message_is_its_type():
    assert first_line(ConfigError("one\ntwo")) == "one"
    assert first_line(KeyError()) == "KeyError"


def test_cli_exits_by_the_convention_in_process():
    with pytest.raises(SystemExit) as ended:
        cli(lambda: (_ for _ in ()).throw(ConfigError("bad")))
    assert ended.value.code == EXIT_USAGE


@pytest.mark.parametrize(
    ("module", "prog"),
    [
        ("experiments.data", "experiments.data"),
        ("experiments.ui", "experiments.ui"),
        ("experiments.compare", "experiments.compare"),
        ("experiments.repeat", "experiments.repeat"),
        ("experiments.tune.search", "experiments.tune"),
        ("apps.predict", "apps.predict"),
    ],
)
def test_every_entrypoint_has_the_same_help_shape(capsys, module, prog):
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as ended:
        main(["--help"])
    out = capsys.readouterr().out
    assert ended.value.code == 0
    assert out.startswith(f"usage: python -m {prog} ")
    assert out.rstrip().endswith(EXIT_CODES)
