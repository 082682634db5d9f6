"""A lease on a folder: one live process per checkpoint, safe on a shared file system.

The lease is a small JSON file (pid, host, run id, expiry). It is created with `os.link`, which
fails when the file exists, atomically also over NFS, and a thread renews its expiry while the
holder lives. A lease is stale, and taken over, when it has expired (its holder stopped renewing
it: killed, frozen, or on a machine that went down) or when its holder is a process of this host
that no longer exists (a hard kill seconds ago). Only one of several processes taking over a
stale lease wins: each first renames the stale file to a name of its own, and only one rename of
the same file succeeds.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from handrec.errors import HandrecError

LEASE_FILE = "lease.json"
TTL_S = 60.0  # a holder that has not renewed for this long is taken for dead
RENEW_S = 10.0


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, and until when (seconds since the epoch)."""

    pid: int
    host: str
    run_id: str | None
    expires: float

    def is_stale(self, now: float) -> bool:
        return self.expires < now or (self.host == socket.gethostname() and not alive(self.pid))

    def describe(self) -> str:
        run = f"run {self.run_id}, " if self.run_id else ""
        return f"{run}pid {self.pid} on {self.host}"


class LeaseHeld(HandrecError):
    """Another live process holds the lease."""

    def __init__(self, path: Path, holder: Holder) -> None:
        super().__init__(f"{path} is held by {holder.describe()}")
        self.path = path
        self.holder = holder


class Lease:
    """`acquire()` it, `note(run_id)` what it guards, `release()` it; renewed meanwhile."""

    def __init__(self, folder: Path, ttl_s: float = TTL_S, renew_s: float = RENEW_S) -> None:
        self.path = folder / LEASE_FILE
        self.ttl_s = ttl_s
        self.renew_s = renew_s
        self.run_id: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> None:
        """Takes the lease, or raises LeaseHeld naming its live holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            if self._create():
                self._start_renewing()
                return
            holder = read_holder(self.path)
            if holder is not None and not holder.is_stale(time.time()):
                raise LeaseHeld(self.path, holder)
            self._remove_stale()
        raise LeaseHeld(self.path, read_holder(self.path) or self._holder())

    def note(self, run_id: str) -> None:
        """Records the run the lease guards, so that a second start can name it."""
        self.run_id = run_id
        self._write()

    def release(self) -> None:
        """Stops renewing and removes the file if it is still ours; idempotent."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        holder = read_holder(self.path)
        if holder is not None and (holder.pid, holder.host) == (os.getpid(), socket.gethostname()):
            self.path.unlink(missing_ok=True)

    def _holder(self) -> Holder:
        return Holder(os.getpid(), socket.gethostname(), self.run_id, time.time() + self.ttl_s)

    def _create(self) -> bool:
        partial = self._partial()
        partial.write_text(json.dumps(asdict(self._holder())))
        try:
            os.link(partial, self.path)
            return True
        except FileExistsError:
            return False
        finally:
            partial.unlink(missing_ok=True)

    def _write(self) -> None:
        partial = self._partial()
        partial.write_text(json.dumps(asdict(self._holder())))
        os.replace(partial, self.path)

    def _partial(self) -> Path:
        return self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")

    def _remove_stale(self) -> None:
        aside = self._partial()
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return  # another process took it over, or its holder released it
        aside.unlink(missing_ok=True)

    def _start_renewing(self) -> None:
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.renew_s):
            holder = read_holder(self.path)
            if holder is None or (holder.pid, holder.host) != (os.getpid(), socket.gethostname()):
                return  # taken over after this process stood still past the expiry
            try:
                self._write()
            except OSError:
                return  # the folder went away: nothing left to guard


def read_holder(path: Path) -> Holder | None:
    """The lease's holder; None when there is no lease or it cannot be read (a stale one)."""
    try:
        return Holder(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def alive(pid: int) -> bool:
    """Whether process `pid` of this host exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")
