"""Checks before any run opens: everything the config alone decides.

A mistake found here costs a second and leaves the user's experiment as it was; found inside a
run, it would add a FAILED run to it. What only reading the data can tell (a malformed file) is
still found inside the run.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from experiments.schema import Config, TrackingConfig
from experiments.tracking import sqlite_file
from handrec.data.sources.holdings import held_classes, required_paths
from handrec.errors import ConfigError, DataError, HandrecError
from handrec.labels import DIGITS, LOWERCASE, UPPERCASE, LabelSpace

SEED_MAX = 2**32 - 1  # NumPy's and TensorFlow's seeds are 32-bit
BYTES_PER_VALUE = 4  # float32
# Weights, their gradients and Adam's two moments; activations kept for the backward pass and
# their gradients.
COPIES_PER_PARAMETER = 4
COPIES_PER_ACTIVATION = 2


class StoreNotWritable(HandrecError):
    """A folder the run must write to cannot be written."""


def check(settings: Config) -> None:
    """Every check below, cheapest first; raises a HandrecError with one line."""
    check_seeds(settings)
    check_classes(settings)
    check_data_files(settings)
    check_writable(settings.tracking, Path(settings.checkpoints))
    check_memory(settings)


def check_seeds(settings: Config) -> None:
    seeds = {"seed": settings.seed, "data.split.seed": settings.data.split.seed}
    for key, spec in settings.data.sources.items():
        if hasattr(spec, "seed"):
            seeds[f"data.sources.{key}.seed"] = spec.seed
    for name, value in seeds.items():
        if not 0 <= value <= SEED_MAX:
            raise ConfigError(f"{name} must be in 0..{SEED_MAX}, got {value}")


def check_classes(settings: Config) -> None:
    """At least two class names, each held by one of the chosen sources."""
    names = settings.classes
    space = LabelSpace.from_names(names)
    if len(space) < 2:
        raise ConfigError(
            f"classes={names} names {len(space)} class: a model tells at least 2 apart "
            f"(e.g. classes={DIGITS})"
        )
    held = [held_classes(spec) for spec in settings.data.sources.values()]
    if not held or any(h is None for h in held):
        return  # only reading a source tells: its loader checks
    holding = {name for h in held for name in h}  # type: ignore[union-attr]
    missing = "".join(name for name in space.classes if name not in holding)
    if missing == "".join(space.classes):
        raise DataError(
            f"classes={names}: no sample of the chosen sources has a class in {names!r}; they "
            f"hold {spans(holding)}: set classes to names they hold, or choose other data"
        )
    if missing:
        raise DataError(
            f"classes={names}: the chosen sources hold no sample of {missing!r} (they hold "
            f"{spans(holding)}): drop those from classes, or add a source that has them"
        )


def spans(names: set[str]) -> str:
    """{"0", …, "9", "A", …, "Z"} → "0–9, A–Z": consecutive runs of the usual alphabets."""
    order = DIGITS + UPPERCASE + LOWERCASE
    known = sorted((n for n in names if n in order), key=order.index)
    runs: list[list[str]] = []
    for name in known:
        if runs and order.index(name) == order.index(runs[-1][-1]) + 1 and name not in "Aa":
            runs[-1].append(name)
        else:
            runs.append([name])
    parts = [run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs]
    return ", ".join(parts + sorted(n for n in names if n not in order))


def check_data_files(settings: Config) -> None:
    sources = {f"sources.{key}": spec for key, spec in settings.data.sources.items()}
    sources |= {f"train_extra.sources.{k}": s for k, s in settings.data.train_extra.sources.items()}
    for key, spec in sources.items():
        for path in required_paths(spec):
            if not path.exists():
                raise DataError(
                    f"data.{key}: {path} does not exist: fetch the data there (README: "
                    f"Data sets) or set data.{key}.path"
                )


def check_writable(tracking: TrackingConfig, checkpoints: Path) -> None:
    """The sqlite store's folder, the artifact root and the checkpoints: each writable, as
    the run will write there."""
    folders = {"checkpoints": checkpoints}
    scheme = urlparse(tracking.uri).scheme
    if scheme == "sqlite":
        database = sqlite_file(tracking.uri)
        if database is not None:
            folders["tracking.uri"] = database.parent
            if database.exists():
                _require_writable_file(database, "tracking.uri")
    if tracking.artifact_root is not None and scheme not in ("http", "https"):
        folders["tracking.artifact_root"] = Path(tracking.artifact_root)
    for key, folder in folders.items():
        _require_writable_folder(folder, key)


def _require_writable_folder(folder: Path, key: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".handrec-write-check-"):
            pass
    except OSError as err:
        raise StoreNotWritable(
            f"{key}: cannot write to {folder} ({err.strerror or type(err).__name__}): "
            f"make it writable or set {key} to a folder you can write"
        ) from None


def _require_writable_file(path: Path, key: str) -> None:
    try:
        with path.open("ab"):
            pass
    except OSError as err:
        raise StoreNotWritable(
            f"{key}: cannot write to {path} ({err.strerror or type(err).__name__}): "
            f"make it writable or set {key} to a store you can write"
        ) from None


def check_memory(settings: Config) -> None:
    """The model's weights and one batch's activations against the memory free now."""
    needed, parameters = training_bytes(settings)
    available = available_bytes()
    if available is not None and needed > available:
        raise ConfigError(
            f"model ({_sizes(settings.model)}): training would need about "
            f"{needed / 2**30:,.1f} GiB ({parameters:,} parameters, batches of "
            f"{settings.train.batch_size}), "
            f"{available / 2**30:,.1f} GiB are free: choose a smaller model or train.batch_size"
        )


def training_bytes(settings: Config) -> tuple[int, int]:
    """Bytes that training the configured model needs, estimated from its shapes, and its
    parameters. The model is built without allocating its weights (Keras' stateless scope)."""
    import keras

    from handrec.models import build_model

    with keras.StatelessScope(initialize_variables=False):
        model = build_model(settings.model, len(settings.classes))
        parameters = model.count_params()
        activations = sum(
            math.prod(layer.output.shape[1:]) for layer in model.layers if _has_output(layer)
        )
    keras.backend.clear_session()  # forgets the uninitialised weights
    values = (
        COPIES_PER_PARAMETER * parameters
        + COPIES_PER_ACTIVATION * settings.train.batch_size * activations
    )
    return values * BYTES_PER_VALUE, parameters


def _has_output(layer: object) -> bool:
    try:
        return getattr(layer, "output", None) is not None
    except (AttributeError, ValueError):
        return False


def available_bytes() -> int | None:
    """Memory free for a new allocation (Linux' MemAvailable), or None where unknown."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def _sizes(model: object) -> str:
    """The model's settings as the user would write them: "name=seed_cnn filters=64 …"."""
    return " ".join(f"{key}={value}" for key, value in vars(model).items())
