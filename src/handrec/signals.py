"""Holding back Ctrl-C and SIGTERM while a few writes that belong together are made."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOPPING = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM arriving inside the block take effect as it ends, so that a backup
    is never half written and a run's end is recorded whole.

    The handlers are swapped, not the signal mask: in a process with other threads
    (TensorFlow's) the kernel hands a signal to any thread that does not block it, and Python
    then runs the handler in the main thread all the same. Only the main thread may swap
    handlers: elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)

    previous = {signum: signal.signal(signum, remember) for signum in STOPPING}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if pending:
            signal.raise_signal(pending[0])
