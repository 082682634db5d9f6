"""The parent runs a Hydra sweep callback holds open, for the entrypoint to end if the sweep is
cut off: Hydra tells its callbacks when a sweep ends, never when it aborts.

Light (the standard library only), so that `experiments.run` wraps its work in
`closing_parents` before anything loads MLflow; `lifecycle.hold_open` puts a parent here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

# By run id. Kept here, not in the callback, which launchers pickle to send to their workers.
_open: dict[str, ExitStack] = {}


def hold(run_id: str, ending: ExitStack) -> None:
    """Keeps `ending` (an entered `lifecycle.ending_parent`) until `release` or the end."""
    _open[run_id] = ending


def release(run_id: str) -> None:
    """Ends the parent `run_id` as a completed block; idempotent."""
    ending = _open.pop(run_id, None)
    if ending is not None:
        ending.close()


@contextmanager
def closing_parents() -> Iterator[None]:
    """Around an entrypoint: the parents still open when it ends (an interrupted or aborted
    sweep) end by how it ended."""
    try:
        yield
    except BaseException as exc:
        while _open:
            _open.popitem()[1].__exit__(type(exc), exc, exc.__traceback__)
        raise
    while _open:
        _open.popitem()[1].close()
