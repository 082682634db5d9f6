"""One convention for every command line: what an error, an interruption and success look like.

Exit codes, the same for every entrypoint (run, tune, repeat, compare, data, ui, evaluate,
predict):

    0    done
    1    done, but some inputs failed (predict: an image that could not be read)
    2    a usage, config or data error, printed as one line on stderr
    130  interrupted by SIGINT (Ctrl-C)
    143  interrupted by SIGTERM (kill, Docker, SLURM, Ray, CI)

Usage:

    def main(argv=None) -> int: ...
    if __name__ == "__main__":
        cli(main)
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

from handrec.errors import HandrecError, first_line

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
EXIT_CODES = (
    "exit status: 0 done, 1 some inputs failed (predict), 2 a usage, config or data error, "
    "130 interrupted (SIGINT), 143 terminated (SIGTERM)"
)


class Interrupted(BaseException):
    """The process was asked to stop by a signal; raised in the main thread, like Ctrl-C's
    KeyboardInterrupt, so that `finally` blocks and run lifecycles end what they hold.

    A BaseException, so that `except Exception` (Hydra's job runner, libraries) lets it through.
    `message` is the one line the user sees ("interrupted after epoch 2 of 5: ...").
    """

    def __init__(self, signum: int = signal.SIGINT, message: str = "") -> None:
        super().__init__(message or f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
        self.message = str(self)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def interruption(exc: BaseException, message: str = "") -> Interrupted:
    """KeyboardInterrupt or Interrupted → Interrupted with the same signal and `message`."""
    signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
    return Interrupted(signum, message or (exc.message if isinstance(exc, Interrupted) else ""))


def parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The argument parser every entrypoint's --help shares: `python -m <module>`, the module's
    docstring as written (its usage lines first), then the exit codes."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def raise_interrupted(signum: int, frame: FrameType | None) -> None:
    """The SIGTERM handler: turns the signal into an exception in the main thread."""
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    """SIGTERM raises Interrupted; SIGINT keeps raising KeyboardInterrupt. Only the main thread
    may install handlers: elsewhere (a Ray or joblib worker thread) this does nothing."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, raise_interrupted)


def exit_code(exc: BaseException, usage_errors: tuple[type[BaseException], ...] = ()) -> int:
    """The exit code for an exception that ended a command; re-raises one it does not know."""
    if isinstance(exc, Interrupted):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return 128 + signal.SIGINT
    if isinstance(exc, (HandrecError, *usage_errors)):
        return EXIT_USAGE
    raise exc


def cli(
    main: Callable[[], int | None],
    usage_errors: tuple[type[BaseException], ...] = (),
) -> NoReturn:
    """Runs `main` and exits by the convention above. `usage_errors` are further exception
    types (e.g. Hydra's) that mean the user's input was wrong: one line, exit 2."""
    install_signal_handlers()
    try:
        code = main()
    except (KeyboardInterrupt, Interrupted, HandrecError, *usage_errors) as exc:
        code = exit_code(exc, usage_errors)
        print(_message(exc), file=sys.stderr)
    sys.exit(EXIT_OK if code is None else code)


def _message(exc: BaseException) -> str:
    if isinstance(exc, Interrupted):
        return exc.message
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted by SIGINT"
    return f"error: {first_line(exc)}"
