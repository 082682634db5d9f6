"""`import tensorflow` without the start-up lines its C++ libraries print.

TensorFlow's shared libraries each write "All log messages before absl::InitializeLog() ..." and
"oneDNN custom operations are on ..." straight to file descriptor 2 while they load, before any
log level applies (`TF_CPP_MIN_LOG_LEVEL` does not reach them), so every command printed them twice.
`install()` puts a finder first on `sys.meta_path` that performs the first `import tensorflow` with
descriptor 2 captured and then writes back every captured line except those known start-up lines:
a real error printed while loading still reaches the user.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

START_UP = re.compile(
    rb"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|I\d{4} [\d:.]+ +\d+ (port|cpu_feature_guard)\.cc:\d+\] "
    rb"|To enable the following instructions: .* in other operations, rebuild TensorFlow"
)


def without_start_up_lines(captured: bytes) -> bytes:
    """What a process wrote to stderr, less TensorFlow's known start-up lines."""
    lines = captured.splitlines(keepends=True)
    return b"".join(line for line in lines if not START_UP.match(line))


class _Filtered(importlib.abc.Loader):
    """TensorFlow's own loader, run with descriptor 2 filtered; all else is the original's."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> object:
        return getattr(self.loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with start_up_lines_dropped():
            self.loader.exec_module(module)


class QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` once, with its real loader wrapped in `_Filtered`, then steps aside."""

    def find_spec(self, name: str, path: object = None, target: object = None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _Filtered(spec.loader)
        return spec


@contextlib.contextmanager
def start_up_lines_dropped() -> Iterator[None]:
    """Everything written to descriptor 2 inside is held back, then written less start-up lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            os.write(2, without_start_up_lines(captured.read()))


def install() -> None:
    """Make the process's first `import tensorflow` quiet (no-op once imported or installed)."""
    if "tensorflow" in sys.modules or any(isinstance(f, QuietTensorFlow) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, QuietTensorFlow())
